OPENQASM 2.0;
include "qelib1.inc";
qreg q[1];
rz(ln(-1) + (2 */ 3)) q[0];
