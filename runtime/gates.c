// SPDX-License-Identifier: MIT
/*
 * The gate set: names, shapes and matrices.
 *
 * Matrices are built from a small number of shapes (one-qubit matrix,
 * controlled target block, permutation, diagonal) so that every gate's
 * convention (operand 0 is the least significant bit of the matrix index,
 * controls first) is decided in one place: expand_controlled().
 */
#include <complex.h>
#include <math.h>
#include <string.h>

#include "qrtx/gates.h"

static const struct qrtx_gate_info gate_table[QRTX_G_COUNT] = {
	/*			name      nq np nc diag */
	[QRTX_G_U]	 = { "u3",	 1, 3, 0, 0 },
	[QRTX_G_U2]	 = { "u2",	 1, 2, 0, 0 },
	[QRTX_G_U1]	 = { "u1",	 1, 1, 0, 1 },
	[QRTX_G_U0]	 = { "u0",	 1, 1, 0, 1 },
	[QRTX_G_ID]	 = { "id",	 1, 0, 0, 1 },
	[QRTX_G_X]	 = { "x",	 1, 0, 0, 0 },
	[QRTX_G_Y]	 = { "y",	 1, 0, 0, 0 },
	[QRTX_G_Z]	 = { "z",	 1, 0, 0, 1 },
	[QRTX_G_H]	 = { "h",	 1, 0, 0, 0 },
	[QRTX_G_S]	 = { "s",	 1, 0, 0, 1 },
	[QRTX_G_SDG]	 = { "sdg",	 1, 0, 0, 1 },
	[QRTX_G_T]	 = { "t",	 1, 0, 0, 1 },
	[QRTX_G_TDG]	 = { "tdg",	 1, 0, 0, 1 },
	[QRTX_G_SX]	 = { "sx",	 1, 0, 0, 0 },
	[QRTX_G_SXDG]	 = { "sxdg",	 1, 0, 0, 0 },
	[QRTX_G_RX]	 = { "rx",	 1, 1, 0, 0 },
	[QRTX_G_RY]	 = { "ry",	 1, 1, 0, 0 },
	[QRTX_G_RZ]	 = { "rz",	 1, 1, 0, 1 },
	[QRTX_G_CX]	 = { "cx",	 2, 0, 1, 0 },
	[QRTX_G_CY]	 = { "cy",	 2, 0, 1, 0 },
	[QRTX_G_CZ]	 = { "cz",	 2, 0, 1, 1 },
	[QRTX_G_CH]	 = { "ch",	 2, 0, 1, 0 },
	[QRTX_G_SWAP]	 = { "swap",	 2, 0, 0, 0 },
	[QRTX_G_CRX]	 = { "crx",	 2, 1, 1, 0 },
	[QRTX_G_CRY]	 = { "cry",	 2, 1, 1, 0 },
	[QRTX_G_CRZ]	 = { "crz",	 2, 1, 1, 1 },
	[QRTX_G_CU1]	 = { "cu1",	 2, 1, 1, 1 },
	[QRTX_G_CU3]	 = { "cu3",	 2, 3, 1, 0 },
	[QRTX_G_CU]	 = { "cu",	 2, 4, 1, 0 },
	[QRTX_G_CSX]	 = { "csx",	 2, 0, 1, 0 },
	[QRTX_G_RXX]	 = { "rxx",	 2, 1, 0, 0 },
	[QRTX_G_RZZ]	 = { "rzz",	 2, 1, 0, 1 },
	[QRTX_G_CCX]	 = { "ccx",	 3, 0, 2, 0 },
	[QRTX_G_CSWAP]	 = { "cswap",	 3, 0, 1, 0 },
	/* Relative-phase Toffolis: not a controlled form (phases on
	 * control states), so no leading controls. */
	[QRTX_G_RCCX]	 = { "rccx",	 3, 0, 0, 0 },
	[QRTX_G_RC3X]	 = { "rc3x",	 4, 0, 0, 0 },
	[QRTX_G_C3X]	 = { "c3x",	 4, 0, 3, 0 },
	[QRTX_G_C3SQRTX] = { "c3sqrtx", 4, 0, 3, 0 },
	[QRTX_G_C4X]	 = { "c4x",	 5, 0, 4, 0 },
};

/* Names front ends accept besides the canonical ones: U and CX are the
 * OpenQASM 2.0 built-ins; u, p and cp come from newer qelib1.inc files. */
static const struct {
	const char *name;
	enum qrtx_gate_id id;
} gate_alias[] = {
	{ "U", QRTX_G_U }, { "u", QRTX_G_U },
	{ "p", QRTX_G_U1 },
	{ "CX", QRTX_G_CX },
	{ "cp", QRTX_G_CU1 },
};

const struct qrtx_gate_info *qrtx_gate_info(enum qrtx_gate_id g)
{
	if ((unsigned int)g >= QRTX_G_COUNT)
		return NULL;
	return &gate_table[g];
}

int qrtx_gate_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int g = 0; g < QRTX_G_COUNT; g++)
		if (!strcmp(gate_table[g].name, name))
			return g;
	for (size_t i = 0; i < sizeof(gate_alias) / sizeof(gate_alias[0]); i++)
		if (!strcmp(gate_alias[i].name, name))
			return gate_alias[i].id;
	return -1;
}

/* U(theta, phi, lambda) as OpenQASM 2.0 defines it. */
static void mat_u(double th, double ph, double la, double complex u[4])
{
	double c = cos(th / 2), s = sin(th / 2);

	u[0] = c;
	u[1] = -cexp(I * la) * s;
	u[2] = cexp(I * ph) * s;
	u[3] = cexp(I * (ph + la)) * c;
}

static void mat_diag1(double complex a, double complex b, double complex u[4])
{
	u[0] = a;
	u[1] = 0;
	u[2] = 0;
	u[3] = b;
}

/* The 2x2 matrix of a one-qubit gate, or of the target of a gate whose
 * target is one qubit (cx -> X, crz -> rz, ...). */
static void mat_1q(enum qrtx_gate_id g, const double *p, double complex u[4])
{
	const double r = M_SQRT1_2;

	switch (g) {
	case QRTX_G_U:
	case QRTX_G_CU3:
		mat_u(p[0], p[1], p[2], u);
		break;
	case QRTX_G_CU:
		mat_u(p[0], p[1], p[2], u);
		for (int i = 0; i < 4; i++)
			u[i] *= cexp(I * p[3]);
		break;
	case QRTX_G_U2:
		mat_u(M_PI / 2, p[0], p[1], u);
		break;
	case QRTX_G_U1:
	case QRTX_G_CU1:
		mat_diag1(1, cexp(I * p[0]), u);
		break;
	case QRTX_G_U0:
	case QRTX_G_ID:
		mat_diag1(1, 1, u);
		break;
	case QRTX_G_X:
	case QRTX_G_CX:
	case QRTX_G_CCX:
	case QRTX_G_C3X:
	case QRTX_G_C4X:
		u[0] = 0; u[1] = 1; u[2] = 1; u[3] = 0;
		break;
	case QRTX_G_Y:
	case QRTX_G_CY:
		u[0] = 0; u[1] = -I; u[2] = I; u[3] = 0;
		break;
	case QRTX_G_Z:
	case QRTX_G_CZ:
		mat_diag1(1, -1, u);
		break;
	case QRTX_G_H:
	case QRTX_G_CH:
		u[0] = r; u[1] = r; u[2] = r; u[3] = -r;
		break;
	case QRTX_G_S:
		mat_diag1(1, I, u);
		break;
	case QRTX_G_SDG:
		mat_diag1(1, -I, u);
		break;
	case QRTX_G_T:
		mat_diag1(1, cexp(I * M_PI / 4), u);
		break;
	case QRTX_G_TDG:
		mat_diag1(1, cexp(-I * M_PI / 4), u);
		break;
	case QRTX_G_SX:
	case QRTX_G_CSX:
	case QRTX_G_C3SQRTX:
		u[0] = (1 + I) / 2; u[1] = (1 - I) / 2;
		u[2] = (1 - I) / 2; u[3] = (1 + I) / 2;
		break;
	case QRTX_G_SXDG:
		u[0] = (1 - I) / 2; u[1] = (1 + I) / 2;
		u[2] = (1 + I) / 2; u[3] = (1 - I) / 2;
		break;
	case QRTX_G_RX:
	case QRTX_G_CRX:
		u[0] = cos(p[0] / 2); u[1] = -I * sin(p[0] / 2);
		u[2] = -I * sin(p[0] / 2); u[3] = cos(p[0] / 2);
		break;
	case QRTX_G_RY:
	case QRTX_G_CRY:
		u[0] = cos(p[0] / 2); u[1] = -sin(p[0] / 2);
		u[2] = sin(p[0] / 2); u[3] = cos(p[0] / 2);
		break;
	case QRTX_G_RZ:
	case QRTX_G_CRZ:
		mat_diag1(cexp(-I * p[0] / 2), cexp(I * p[0] / 2), u);
		break;
	default:
		/* Not reached: callers only pass one-target gates. */
		mat_diag1(1, 1, u);
		break;
	}
}

static void identity(double complex *m, unsigned int dim)
{
	memset(m, 0, sizeof(*m) * dim * dim);
	for (unsigned int i = 0; i < dim; i++)
		m[i * dim + i] = 1;
}

/*
 * m (over nc + nt qubits) = identity, except that where the nc low
 * (control) bits are all 1 the target bits see t (2^nt x 2^nt).
 */
static void expand_controlled(unsigned int nc, unsigned int nt, const double complex *t,
			      double complex *m)
{
	unsigned int dim = 1u << (nc + nt), tdim = 1u << nt;
	unsigned int on = (1u << nc) - 1;

	identity(m, dim);
	for (unsigned int r = 0; r < tdim; r++)
		for (unsigned int c = 0; c < tdim; c++)
			m[((r << nc) | on) * dim + ((c << nc) | on)] = t[r * tdim + c];
}

static const double complex swap4[16] = {
	1, 0, 0, 0,
	0, 0, 1, 0,
	0, 1, 0, 0,
	0, 0, 0, 1,
};

void qrtx_gate_matrix(enum qrtx_gate_id g, const double *params, double complex *m)
{
	static const double zero[QRTX_GATE_MAX_PARAMS];
	const double *p = params ? params : zero;
	double complex u[4];

	switch (g) {
	case QRTX_G_SWAP:
		memcpy(m, swap4, sizeof(swap4));
		return;
	case QRTX_G_CSWAP:
		expand_controlled(1, 2, swap4, m);
		return;
	case QRTX_G_RXX: {
		double c = cos(p[0] / 2), s = sin(p[0] / 2);

		/* cos(t/2) I - i sin(t/2) X(x)X: X(x)X maps i to 3 - i. */
		memset(m, 0, sizeof(*m) * 16);
		for (int i = 0; i < 4; i++) {
			m[i * 4 + i] = c;
			m[i * 4 + (3 - i)] = -I * s;
		}
		return;
	}
	case QRTX_G_RZZ: {
		double complex e = cexp(-I * p[0] / 2);

		/* Z(x)Z is +1 on even parity, -1 on odd. */
		memset(m, 0, sizeof(*m) * 16);
		m[0] = e;
		m[5] = conj(e);
		m[10] = conj(e);
		m[15] = e;
		return;
	}
	case QRTX_G_RCCX:
		/* The product of qelib1's decomposition (H, T, cx b c, Tdg,
		 * cx a c, T, cx b c, Tdg, H on c): a Toffoli up to a -1 on
		 * |a=1 b=0 c=1> and phases -i/+i on the flipped pair. */
		identity(m, 8);
		m[3 * 8 + 3] = 0;
		m[7 * 8 + 7] = 0;
		m[3 * 8 + 7] = -I;
		m[7 * 8 + 3] = I;
		m[5 * 8 + 5] = -1;
		return;
	case QRTX_G_RC3X:
		/* The product of qelib1's decomposition: a 3-controlled X up
		 * to phases i on |a=b=1 c=0 d=0>, -i on |a=b=1 c=0 d=1> and
		 * -1 on one side of the flipped pair. */
		identity(m, 16);
		m[3 * 16 + 3] = I;
		m[11 * 16 + 11] = -I;
		m[7 * 16 + 7] = 0;
		m[15 * 16 + 15] = 0;
		m[7 * 16 + 15] = 1;
		m[15 * 16 + 7] = -1;
		return;
	default:
		break;
	}

	if ((unsigned int)g >= QRTX_G_COUNT) {
		identity(m, 1);
		return;
	}
	mat_1q(g, p, u);
	expand_controlled(gate_table[g].ncontrols,
			  gate_table[g].nqubits - gate_table[g].ncontrols, u, m);
}
