/* only the language's own gates */
OPENQASM 2.0;
gate h a { U(pi/2, 0, pi) a; }
gate cx c, t { CX c, t; }
qreg q[2];
h q[0];
cx q[0], q[1];
