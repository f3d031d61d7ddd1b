// PEEC filament-pair mean log distance, one thread per (i, j) pair, writing the dense
// matrix M_ij = mean over filament i and filament j of ln|r - r'|, minus the same towards
// the mirror image of filament j in a ground plane y = y0 when there is one.
//
// As in sigint/extract/peec.py (mean_log_distance, its numpy twin):
// * far pairs: centroid distance with the second-moment correction 1/2 tr((S_i + S_j) H),
//   H the Hessian of ln r;
// * near pairs (closer than NEAR (size_i + size_j), half that across conductors):
//   rectangles exactly by the fourth antiderivative of ln(x^2 + y^2) summed over the
//   corners (Hoer & Love, J. Res. NBS 69C, 1965); sectors about one centre by the polar
//   series ln|r - r'| = ln r_> - sum_m (r_</r_>)^m cos m(t - t') / m integrated in closed
//   form (M_TERMS terms); other near pairs by tensor Gauss-Legendre quadrature (n and n + 1
//   points, so that no two nodes coincide);
// * the image term: the same with the second filament mirrored (near pairs within
//   NEAR (size_i + size_j)).
// Near pairs are evaluated for (min(i, j), max(i, j)) so that the matrix is exactly
// symmetric, as the numpy code does.
//
// Filament record (row of g, 6 doubles): rectangle (x0, x1, y0, y1, 0, 0), kind 0;
// annular sector (cx, cy, r0, r1, t0, t1), kind 1.

#ifndef __CUDACC__
#include <math.h>
#define __host__
#define __device__
#endif

#define PEEC_RECT 0
#define PEEC_SECTOR 1

// ----------------------------------------------------------------------- per-pair functions
__host__ __device__ inline double peec_phi4(double x, double y) {
    double x2 = x * x, y2 = y * y;
    double r2 = x2 + y2;
    double lg = log(r2 > 0.0 ? r2 : 1.0);
    double t1 = (x != 0.0) ? pow(x, 3.0) * y * atan(y / x) : 0.0;
    double t2 = (y != 0.0) ? x * pow(y, 3.0) * atan(x / y) : 0.0;
    return (6 * x2 * y2 - x2 * x2 - y2 * y2) / 24.0 * lg + t1 / 3 + t2 / 3 - 25.0 / 24.0 * x2 * y2;
}

// exact mean of ln|r - r'| between axis-aligned rectangles gi, gj = (x0, x1, y0, y1)
__host__ __device__ inline double peec_rect_pair(const double* gi, const double* gj) {
    double tot = 0.0;
    for (int a = 0; a < 2; ++a)
        for (int c = 0; c < 2; ++c) {
            double sx = (a != c) ? 1.0 : -1.0;
            for (int b = 0; b < 2; ++b)
                for (int d = 0; d < 2; ++d) {
                    double sy = (b != d) ? 1.0 : -1.0;
                    tot += sx * sy * peec_phi4(gi[a] - gj[c], gi[2 + b] - gj[2 + d]);
                }
        }
    double ai = (gi[1] - gi[0]) * (gi[3] - gi[2]);
    double aj = (gj[1] - gj[0]) * (gj[3] - gj[2]);
    return 0.5 * tot / (ai * aj);
}

__host__ __device__ inline double peec_plogp(double x, double p) {
    return x > 0.0 ? pow(x, p) * log(x) : 0.0;
}

__host__ __device__ inline double peec_prim_rlnr(double x) {     // integral of rho ln rho
    return 0.5 * peec_plogp(x, 2.0) - 0.25 * x * x;
}

__host__ __device__ inline double peec_prim_r3lnr(double x) {    // integral of rho^3 ln rho
    return 0.25 * peec_plogp(x, 4.0) - pow(x, 4.0) / 16.0;
}

__host__ __device__ inline bool peec_isclose(double a, double b) {   // numpy.isclose defaults
    return fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
}

__host__ __device__ inline double peec_term(double p, double q, int m) {
    return q > 0.0 ? pow(p / q, (double)m) * p * p * q * q : 0.0;
}

// exact (series, m_terms terms) mean of ln|r - r'| between sectors about one centre;
// radial ranges equal or disjoint
__host__ __device__ inline double peec_sector_pair(const double* gi, const double* gj, int m_terms) {
    double a1 = gi[2], a2 = gi[3], al1 = gi[4], al2 = gi[5];
    double b1 = gj[2], b2 = gj[3], be1 = gj[4], be2 = gj[5];
    bool same = peec_isclose(a1, b1) && peec_isclose(a2, b2);
    bool inner_i = a2 <= b1 * (1 + 1e-12);
    double p1 = inner_i ? a1 : b1, p2 = inner_i ? a2 : b2;
    double q1 = inner_i ? b1 : a1, q2 = inner_i ? b2 : a2;
    double ai = 0.5 * (pow(a2, 2.0) - pow(a1, 2.0)) * (al2 - al1);
    double aj = 0.5 * (pow(b2, 2.0) - pow(b1, 2.0)) * (be2 - be1);
    double r0;
    if (same)
        r0 = (peec_prim_r3lnr(a2) - peec_prim_r3lnr(a1)) - pow(a1, 2.0) * (peec_prim_rlnr(a2) - peec_prim_rlnr(a1));
    else
        r0 = 0.5 * (pow(p2, 2.0) - pow(p1, 2.0)) * (peec_prim_rlnr(q2) - peec_prim_rlnr(q1));
    double theta0 = (al2 - al1) * (be2 - be1);
    double total = theta0 * r0;
    for (int m = 1; m <= m_terms; ++m) {
        double th = (-cos(m * (al2 - be1)) + cos(m * (al1 - be1)) + cos(m * (al2 - be2))
                     - cos(m * (al1 - be2))) / (double)(m * m);
        double rm;
        if (same) {
            double tail;
            if (m == 2)
                tail = a1 > 0.0 ? pow(a1, 4.0) * log(a2 / a1) : 0.0;
            else
                tail = a1 > 0.0 ? (peec_term(a1, a2, m) - pow(a1, 4.0)) / (double)(2 - m) : 0.0;
            rm = 2.0 / (m + 2) * ((pow(a2, 4.0) - pow(a1, 4.0)) / 4.0 - tail);
        } else if (m == 2) {
            rm = (pow(p2, 4.0) - pow(p1, 4.0)) / 4.0 * log(q2 / q1);
        } else {
            rm = (peec_term(p2, q2, m) - peec_term(p2, q1, m) - peec_term(p1, q2, m) + peec_term(p1, q1, m))
                 / (double)((m + 2) * (2 - m));
        }
        total = total - th * rm / m;
    }
    return total / (ai * aj);
}

// Gauss point k (of n*n) of a filament: (x, y, weight); nodes t, weights w on [-1, 1]
__host__ __device__ inline void peec_quad_point(int kind, const double* g, const double* t,
                                                const double* w, int n, int k, double mirror,
                                                int mirrored, double* x, double* y, double* wt) {
    int a = k / n, b = k % n;
    if (kind == PEEC_RECT) {
        double x0 = g[0], x1 = g[1], y0 = g[2], y1 = g[3];
        *x = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * t[a];
        *y = 0.5 * (y0 + y1) + 0.5 * (y1 - y0) * t[b];
        *wt = w[a] * w[b] * (0.25 * (x1 - x0) * (y1 - y0));
    } else {
        double cx = g[0], cy = g[1], r0 = g[2], r1 = g[3], t0 = g[4], t1 = g[5];
        double rr = 0.5 * (r0 + r1) + 0.5 * (r1 - r0) * t[a];
        double tt = 0.5 * (t0 + t1) + 0.5 * (t1 - t0) * t[b];
        *x = cx + rr * cos(tt);
        *y = cy + rr * sin(tt);
        *wt = w[a] * rr * w[b] * (0.25 * (r1 - r0) * (t1 - t0));
    }
    if (mirrored) *y = 2 * mirror - *y;
}

// mean ln distance by n x n and (n+1) x (n+1) Gauss points (tn, wn and tn1, wn1)
__host__ __device__ inline double peec_quad_pair(int ki, const double* gi, int kj, const double* gj,
                                                 const double* tn, const double* wn,
                                                 const double* tn1, const double* wn1, int n,
                                                 double mirror, int mirrored) {
    double s = 0.0, swi = 0.0, swj = 0.0;
    for (int q = 0; q < (n + 1) * (n + 1); ++q) {
        double xj, yj, wj;
        peec_quad_point(kj, gj, tn1, wn1, n + 1, q, mirror, mirrored, &xj, &yj, &wj);
        swj += wj;
    }
    for (int p = 0; p < n * n; ++p) {
        double xi, yi, wi;
        peec_quad_point(ki, gi, tn, wn, n, p, 0.0, 0, &xi, &yi, &wi);
        swi += wi;
        double row = 0.0;
        for (int q = 0; q < (n + 1) * (n + 1); ++q) {
            double xj, yj, wj;
            peec_quad_point(kj, gj, tn1, wn1, n + 1, q, mirror, mirrored, &xj, &yj, &wj);
            double dx = xi - xj, dy = yi - yj;
            row += wj * log(dx * dx + dy * dy);
        }
        s += wi * row;
    }
    return 0.5 * s / (swi * swj);
}

// far-field value: 1/2 ln r^2 + 1/2 tr((S_i + S_j) H); cov rows (sxx, sxy, syy)
__host__ __device__ inline double peec_far(double dx, double dy, double a_xx, double a_yy, double a_xy,
                                           int guard) {
    double r2 = dx * dx + dy * dy;
    double r2s = (guard && !(r2 > 0.0)) ? 1.0 : r2;
    double corr = 0.5 * ((a_xx - a_yy) * (dy * dy - dx * dx) - 4 * a_xy * dx * dy) / (r2s * r2s);
    return 0.5 * log(r2s) + corr;
}

struct PeecArgs {
    const int* kind;      // (n,)
    const double* g;      // (n, 6)
    const int* owner;     // (n,)
    const int* circle;    // (n,)
    const double* cen;    // (n, 2)
    const double* cov;    // (n, 3): sxx, sxy, syy
    const double* size;   // (n,)
    const double* tn;     // Gauss nodes and weights, n_quad and n_quad + 1 points
    const double* wn;
    const double* tn1;
    const double* wn1;
    int n_quad;
    int m_terms;
    double near;
    int has_image;
    double image_y;
};

// free-space entry (i, j)
__host__ __device__ inline double peec_direct(const PeecArgs& A, long i, long j) {
    double dx = A.cen[2 * i] - A.cen[2 * j], dy = A.cen[2 * i + 1] - A.cen[2 * j + 1];
    double r2 = dx * dx + dy * dy;
    double lim = A.near * (A.size[i] + A.size[j]);
    if (A.owner[i] != A.owner[j]) lim = 0.5 * lim;
    if (!(r2 < lim * lim)) {
        return peec_far(dx, dy, A.cov[3 * i] + A.cov[3 * j], A.cov[3 * i + 2] + A.cov[3 * j + 2],
                        A.cov[3 * i + 1] + A.cov[3 * j + 1], 1);
    }
    long lo = i < j ? i : j, hi = i < j ? j : i;
    int ki = A.kind[lo], kj = A.kind[hi];
    if (ki == PEEC_RECT && kj == PEEC_RECT) return peec_rect_pair(A.g + 6 * lo, A.g + 6 * hi);
    if (ki == PEEC_SECTOR && kj == PEEC_SECTOR && A.circle[lo] == A.circle[hi])
        return peec_sector_pair(A.g + 6 * lo, A.g + 6 * hi, A.m_terms);
    return peec_quad_pair(ki, A.g + 6 * lo, kj, A.g + 6 * hi, A.tn, A.wn, A.tn1, A.wn1, A.n_quad, 0.0, 0);
}

// entry (i, j) towards the mirror image of j in y = image_y
__host__ __device__ inline double peec_image(const PeecArgs& A, long i, long j) {
    double y0 = A.image_y;
    double dx = A.cen[2 * i] - A.cen[2 * j], dy = A.cen[2 * i + 1] - (2 * y0 - A.cen[2 * j + 1]);
    double r2 = dx * dx + dy * dy;
    double lim = A.near * (A.size[i] + A.size[j]);
    if (!(r2 < lim * lim)) {
        return peec_far(dx, dy, A.cov[3 * i] + A.cov[3 * j], A.cov[3 * i + 2] + A.cov[3 * j + 2],
                        A.cov[3 * i + 1] + (-A.cov[3 * j + 1]), 0);
    }
    if (A.kind[i] == PEEC_RECT && A.kind[j] == PEEC_RECT) {
        const double* gj = A.g + 6 * j;
        double m[4] = {gj[0], gj[1], 2 * y0 - gj[3], 2 * y0 - gj[2]};
        return peec_rect_pair(A.g + 6 * i, m);
    }
    return peec_quad_pair(A.kind[i], A.g + 6 * i, A.kind[j], A.g + 6 * j, A.tn, A.wn, A.tn1, A.wn1,
                          A.n_quad, y0, 1);
}

__host__ __device__ inline double peec_entry(const PeecArgs& A, long i, long j) {
    double v = peec_direct(A, i, j);
    if (A.has_image) v -= peec_image(A, i, j);
    return v;
}

// ----------------------------------------------------------------------- device kernels
#ifdef __CUDACC__
// rows [row0, row0 + m) of the (n, n) matrix into out (m, ld)
extern "C" __global__ void peec_mean_log_distance(
        const int* kind, const double* g, const int* owner, const int* circle, const double* cen,
        const double* cov, const double* size, const double* tn, const double* wn,
        const double* tn1, const double* wn1, int n_quad, int m_terms, double near, int has_image,
        double image_y, long n, long row0, long m, double* out, long ld) {
    long j = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long r = (long)blockIdx.y;
    if (j >= n || r >= m) return;
    PeecArgs A = {kind, g, owner, circle, cen, cov, size, tn, wn, tn1, wn1, n_quad, m_terms, near,
                  has_image, image_y};
    out[r * ld + j] = peec_entry(A, row0 + r, j);
}
#endif

// ----------------------------------------------------------------------- host loops (tests)
#ifdef SIGINT_HOST_BUILD
extern "C" {
void host_peec_mean_log_distance(const int* kind, const double* g, const int* owner,
                                 const int* circle, const double* cen, const double* cov,
                                 const double* size, const double* tn, const double* wn,
                                 const double* tn1, const double* wn1, int n_quad, int m_terms,
                                 double near, int has_image, double image_y, long n, double* out) {
    PeecArgs A = {kind, g, owner, circle, cen, cov, size, tn, wn, tn1, wn1, n_quad, m_terms, near,
                  has_image, image_y};
    for (long i = 0; i < n; ++i)
        for (long j = 0; j < n; ++j) out[i * n + j] = peec_entry(A, i, j);
}

void host_peec_rect_pair(const double* gi, const double* gj, long n, double* out) {
    for (long k = 0; k < n; ++k) out[k] = peec_rect_pair(gi + 6 * k, gj + 6 * k);
}

void host_peec_sector_pair(const double* gi, const double* gj, long n, int m_terms, double* out) {
    for (long k = 0; k < n; ++k) out[k] = peec_sector_pair(gi + 6 * k, gj + 6 * k, m_terms);
}
}
#endif
