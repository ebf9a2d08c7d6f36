OPENQASM 2.0;
include "qelib1.inc";
opaque magic(a) q;
