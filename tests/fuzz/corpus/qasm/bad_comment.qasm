OPENQASM 2.0;
qreg q[1];
/* never closed
U(0,0,0) q[0];
