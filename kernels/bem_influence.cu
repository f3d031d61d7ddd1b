// BEM panel-pair influence: potential and normal field of straight panels carrying a unit
// piecewise-constant density, with the image in an infinite ground plane, one thread per
// (observation point, panel) pair, writing the system-matrix block directly.
//
// Closed forms (2D free-space kernel ln(1/r) / 2 pi, panel from a to b, local coordinates
// u along the panel from a, v along its right-hand normal), as in sigint/extract/bem.py
// (potential_kernel, field_kernel):
//   potential  -1/(4 pi) [F(L - u) - F(-u)],  F(w) = w ln(w^2 + v^2) - 2 w + 2|v| atan2(w, |v|)
//   field      E_t = -1/2 ln(((L-u)^2 + v^2) / (u^2 + v^2)),
//              E_n = atan((L-u)/v) + atan(u/v)   (0 on the panel's line),
//              (Ex, Ey) = (E_t t + E_n n) / (2 pi).
// numpy twins: sigint.extract.bem.potential_kernel / field_kernel; the assembly twin is
// sigint.gpu.ops.bem_influence_numpy.
//
// The per-pair functions are __host__ __device__: tests compile this file for the host
// with g++ (SIGINT_HOST_BUILD defined) and call the extern "C" loops below through ctypes.

#ifndef __CUDACC__
#include <math.h>
#define __host__
#define __device__
#endif

#define SIGINT_PI 3.14159265358979323846

// ----------------------------------------------------------------------- per-pair functions
template <typename T>
struct PanelLocal {
    T u, v, len, tx, ty, nx, ny;
};

template <typename T>
__host__ __device__ inline PanelLocal<T> panel_local(T xo, T yo, T ax, T ay, T bx, T by) {
    PanelLocal<T> p;
    T dx = bx - ax, dy = by - ay;
    p.len = sqrt(dx * dx + dy * dy);
    p.tx = dx / p.len;
    p.ty = dy / p.len;
    p.nx = p.ty;
    p.ny = -p.tx;
    T rx = xo - ax, ry = yo - ay;
    p.u = rx * p.tx + ry * p.ty;
    p.v = rx * p.nx + ry * p.ny;
    return p;
}

template <typename T>
__host__ __device__ inline T xlogy(T x, T y) {
    if (x == T(0)) return T(0);
    return x * log(y > T(0) ? y : T(1));
}

template <typename T>
__host__ __device__ inline T panel_big_f(T w, T v, T av) {
    return xlogy(w, w * w + v * v) - T(2) * w + T(2) * av * atan2(w, av);
}

// (1 / 2 pi) * integral over the panel of ln(1 / |x - r|) ds
template <typename T>
__host__ __device__ inline T panel_potential(T xo, T yo, T ax, T ay, T bx, T by) {
    PanelLocal<T> p = panel_local(xo, yo, ax, ay, bx, by);
    T av = fabs(p.v);
    return T(-0.25 / SIGINT_PI) * (panel_big_f(p.len - p.u, p.v, av) - panel_big_f(-p.u, p.v, av));
}

// field of the panel at (xo, yo) projected on the unit normal (mx, my) of the observer
template <typename T>
__host__ __device__ inline T panel_normal_field(T xo, T yo, T ax, T ay, T bx, T by, T mx, T my) {
    PanelLocal<T> p = panel_local(xo, yo, ax, ay, bx, by);
    T lu = p.len - p.u;
    T r1 = lu * lu + p.v * p.v;
    T r0 = p.u * p.u + p.v * p.v;
    T et = T(-0.5) * (log(r1 > T(0) ? r1 : T(1)) - log(r0 > T(0) ? r0 : T(1)));
    T en = T(0);
    if (p.v != T(0)) en = atan(lu / p.v) + atan(p.u / p.v);
    T ex = (et * p.tx + en * p.nx) / T(2 * SIGINT_PI);
    T ey = (et * p.ty + en * p.ny) / T(2 * SIGINT_PI);
    return ex * mx + ey * my;
}

// One system-matrix entry: conductor rows (field_row == 0) take the potential, interface
// rows the normal field (principal value 0 on the observer's own panel, self_j); with a
// ground plane at y = g the image panel (opposite sign) is subtracted.
template <typename T>
__host__ __device__ inline T bem_entry(const T* obs, const T* nrm, const int* field_row,
                                       const T* a, const T* b, long i, long j, long self_j,
                                       int has_ground, T ground_y) {
    T xo = obs[2 * i], yo = obs[2 * i + 1];
    T ax = a[2 * j], ay = a[2 * j + 1], bx = b[2 * j], by = b[2 * j + 1];
    if (field_row[i] == 0) {
        T val = panel_potential(xo, yo, ax, ay, bx, by);
        if (has_ground) val -= panel_potential(xo, yo, ax, T(2) * ground_y - ay, bx, T(2) * ground_y - by);
        return val;
    }
    T mx = nrm[2 * i], my = nrm[2 * i + 1];
    T val = (j == self_j) ? T(0) : panel_normal_field(xo, yo, ax, ay, bx, by, mx, my);
    if (has_ground)
        val -= panel_normal_field(xo, yo, ax, T(2) * ground_y - ay, bx, T(2) * ground_y - by, mx, my);
    return val;
}

// ----------------------------------------------------------------------- device kernels
#ifdef __CUDACC__
// out[(i * ld + j) * stride] for i < m, j < p; stride 2 writes the real parts of a complex
// matrix in place. self_offset: observer i sits on panel i + self_offset (or -1 for none,
// pass a value >= p).
template <typename T>
__global__ void bem_influence(const T* __restrict__ obs, const T* __restrict__ nrm,
                              const int* __restrict__ field_row, const T* __restrict__ a,
                              const T* __restrict__ b, long m, long p, long self_offset,
                              int has_ground, T ground_y, T* __restrict__ out, long ld,
                              long stride) {
    long j = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long i = (long)blockIdx.y;
    if (j >= p || i >= m) return;
    out[(i * ld + j) * stride] = bem_entry(obs, nrm, field_row, a, b, i, j, i + self_offset,
                                           has_ground, ground_y);
}

#ifdef SIGINT_INSTANTIATE
template __global__ void bem_influence<double>(const double*, const double*, const int*,
                                               const double*, const double*, long, long, long,
                                               int, double, double*, long, long);
template __global__ void bem_influence<float>(const float*, const float*, const int*,
                                              const float*, const float*, long, long, long,
                                              int, float, float*, long, long);
#endif
#endif

// ----------------------------------------------------------------------- host loops (tests)
#ifdef SIGINT_HOST_BUILD
extern "C" {
void host_panel_potential(const double* obs, const double* a, const double* b, long m, long p,
                          double* out) {
    for (long i = 0; i < m; ++i)
        for (long j = 0; j < p; ++j)
            out[i * p + j] = panel_potential(obs[2 * i], obs[2 * i + 1], a[2 * j], a[2 * j + 1],
                                             b[2 * j], b[2 * j + 1]);
}

void host_panel_normal_field(const double* obs, const double* nrm, const double* a,
                             const double* b, long m, long p, double* out) {
    for (long i = 0; i < m; ++i)
        for (long j = 0; j < p; ++j)
            out[i * p + j] = panel_normal_field(obs[2 * i], obs[2 * i + 1], a[2 * j], a[2 * j + 1],
                                                b[2 * j], b[2 * j + 1], nrm[2 * i], nrm[2 * i + 1]);
}

void host_bem_influence(const double* obs, const double* nrm, const int* field_row,
                        const double* a, const double* b, long m, long p, long self_offset,
                        int has_ground, double ground_y, double* out, long ld, long stride) {
    for (long i = 0; i < m; ++i)
        for (long j = 0; j < p; ++j)
            out[(i * ld + j) * stride] = bem_entry(obs, nrm, field_row, a, b, i, j,
                                                   i + self_offset, has_ground, ground_y);
}
}
#endif
