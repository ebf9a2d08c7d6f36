OPENQASM 2.0;
include "qelib1.inc";
// user gates with parameters, nested, with a barrier
gate rot(theta, phi) a, b {
  rz(theta * 2 + phi) a;
  cx a, b;
  U(-pi^2, 2^3^2, -2*3) b;
  barrier a, b;
}
gate twice(t) x, y { rot(t, t/2) x, y; rot(-t, sin(t)) y, x; }
qreg q[3];
qreg r[3];
creg c[3];
twice(.5) q[0], r[1];
twice(1e-3) q, r;
u3(0.1, 2.E+3, ln(2)) q[2];
cu(1, 2, 3, 4) q[0], r[0];
c4x q[0], q[1], q[2], r[0], r[1];
reset r;
measure q -> c;
if (c == 5) x r[2];
