package dev.mixlab.backend.cpu;

import static dev.mixlab.backend.cpu.Simd.axpy;
import static dev.mixlab.backend.cpu.Simd.dot;

import java.util.Arrays;
import java.util.List;

/**
 * The recurrent scans on the CPU (see {@code dev.mixlab.ir.Retention} and {@code dev.mixlab.ir.Mlstm}).
 * The forward kernels evaluate the chunked (parallel) form: within a chunk of {@link #CHUNK} steps
 * the outputs are the decay-weighted causal products q_t·k_j of the chunk plus the readout of the
 * state carried in from earlier chunks, and the state advances once per chunk. The gradient kernels
 * run the recurrences step by step (a forward pass for dq, a reverse pass for the adjoint state).
 * One task per (batch, head); float32 storage and vectors, gate arithmetic in double.
 */
final class ScanKernels {
    private ScanKernels() {}

    /** Steps per chunk of the chunked forward form. */
    static final int CHUNK = 64;

    /** Shapes of a scan: batch, steps, heads, key and value widths. */
    record Dims(int b, int t, int h, int dk, int dv) {
        int row(int bi, int ti, int hi) {
            return (bi * t + ti) * h + hi;
        }
    }

    /**
     * Retention y_t = Σ_{j≤t} γ^(t−j)(q_t·k_j) v_j by chunks. With {@code stOff >= 0} the state
     * [B,H,dk,dv] lives there (zeroed first when pos is 0) and holds the final state afterwards.
     */
    static void retention(float[] f, int qOff, int kOff, int vOff, int yOff, Dims d, List<Double> gammas, int stOff, int pos) {
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv();
            float[] scratch = Scratch.floats(Scratch.A, dk * dv);
            float[] pw = Scratch.floats(Scratch.B, CHUNK + 1);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h();
                double g = gammas.get(hi);
                for (int p = 0; p <= CHUNK; p++) pw[p] = (float) Math.pow(g, p);
                float[] s = stOff >= 0 ? f : scratch;
                int so = stOff >= 0 ? stOff + bh * dk * dv : 0;
                if (stOff < 0 || pos == 0) Arrays.fill(s, so, so + dk * dv, 0f);
                for (int c0 = 0; c0 < d.t(); c0 += CHUNK) {
                    int len = Math.min(CHUNK, d.t() - c0);
                    for (int a = 0; a < len; a++) {
                        int row = d.row(bi, c0 + a, hi), qo = qOff + row * dk, yo = yOff + row * dv;
                        Arrays.fill(f, yo, yo + dv, 0f);
                        for (int i = 0; i < dk; i++) axpy(f[qo + i], s, so + i * dv, f, yo, dv);   // q_tᵀ S (state before the chunk)
                        float decay = pw[a + 1];
                        for (int j = 0; j < dv; j++) f[yo + j] *= decay;
                        for (int j0 = 0; j0 <= a; j0++) {
                            int rj = d.row(bi, c0 + j0, hi);
                            float w = pw[a - j0] * dot(f, qo, f, kOff + rj * dk, dk);
                            axpy(w, f, vOff + rj * dv, f, yo, dv);
                        }
                    }
                    // S ← γ^len S + Σ_j γ^(len−1−j) k_j v_jᵀ
                    for (int i = 0; i < dk; i++) {
                        int si = so + i * dv;
                        float decay = pw[len];
                        for (int j = 0; j < dv; j++) s[si + j] *= decay;
                        for (int j0 = 0; j0 < len; j0++) {
                            int rj = d.row(bi, c0 + j0, hi);
                            axpy(pw[len - 1 - j0] * f[kOff + rj * dk + i], f, vOff + rj * dv, s, si, dv);
                        }
                    }
                }
            }
        });
    }

    /** (dq, dk, dv) of retention: forward states for dq, reverse adjoint state D for dk and dv. */
    static void retentionGrad(float[] f, int qOff, int kOff, int vOff, int dyOff, int dqOff, int dkOff, int dvOff, Dims d,
                              List<Double> gammas) {
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv();
            float[] s = Scratch.floats(Scratch.A, dk * dv);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h();
                float g = (float) (double) gammas.get(hi);
                Arrays.fill(s, 0, dk * dv, 0f);
                for (int t = 0; t < d.t(); t++) {
                    int row = d.row(bi, t, hi), ko = kOff + row * dk, vo = vOff + row * dv, dyo = dyOff + row * dv;
                    for (int i = 0; i < dk; i++) {
                        for (int j = 0; j < dv; j++) s[i * dv + j] *= g;
                        axpy(f[ko + i], f, vo, s, i * dv, dv);
                        f[dqOff + row * dk + i] = dot(s, i * dv, f, dyo, dv);
                    }
                }
                Arrays.fill(s, 0, dk * dv, 0f);
                for (int t = d.t() - 1; t >= 0; t--) {
                    int row = d.row(bi, t, hi), qo = qOff + row * dk, ko = kOff + row * dk, vo = vOff + row * dv;
                    int dyo = dyOff + row * dv, dvo = dvOff + row * dv;
                    Arrays.fill(f, dvo, dvo + dv, 0f);
                    for (int i = 0; i < dk; i++) {
                        for (int j = 0; j < dv; j++) s[i * dv + j] *= g;
                        axpy(f[qo + i], f, dyo, s, i * dv, dv);
                        f[dkOff + row * dk + i] = dot(s, i * dv, f, vo, dv);
                        axpy(f[ko + i], s, i * dv, f, dvo, dv);
                    }
                }
            }
        });
    }

    static double logSigmoid(double x) {
        return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
    }

    /**
     * The mLSTM cell by chunks: with F the cumulative log forget gate inside the chunk and m_c the
     * stabiliser at its start, step a of the chunk weighs the carried state by e^(F_a + m_c − m_a) and
     * key j of the chunk by e^(F_a − F_j + i_j − m_a), m_a the maximum exponent (equal to the
     * recurrence's stabiliser). With {@code stOff >= 0} the state [B,H,dv·dk+dk+1] lives there.
     */
    static void mlstm(float[] f, int qOff, int kOff, int vOff, int iOff, int fOff, int yOff, Dims d, int stOff, int pos) {
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv(), ss = dv * dk + dk + 1;
            float[] scratch = Scratch.floats(Scratch.A, ss);
            float[] w = Scratch.floats(Scratch.B, CHUNK);
            double[] cum = Scratch.doubles(Scratch.C, CHUNK), lw = Scratch.doubles(Scratch.D, CHUNK + 1);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h();
                float[] s = stOff >= 0 ? f : scratch;
                int co = stOff >= 0 ? stOff + bh * ss : 0, no = co + dv * dk, mo = no + dk;
                if (stOff < 0 || pos == 0) Arrays.fill(s, co, co + ss, 0f);
                double mc = s[mo];
                for (int c0 = 0; c0 < d.t(); c0 += CHUNK) {
                    int len = Math.min(CHUNK, d.t() - c0);
                    double acc = 0;
                    for (int a = 0; a < len; a++) {
                        acc += logSigmoid(f[fOff + d.row(bi, c0 + a, hi)]);
                        cum[a] = acc;
                    }
                    double mt = 0;
                    for (int a = 0; a < len; a++) {
                        int row = d.row(bi, c0 + a, hi), qo = qOff + row * dk, yo = yOff + row * dv;
                        // exponents: lw[0] the carried state, lw[1 + j] key j of the chunk
                        mt = lw[0] = cum[a] + mc;
                        for (int j0 = 0; j0 <= a; j0++) {
                            lw[1 + j0] = cum[a] - cum[j0] + f[iOff + d.row(bi, c0 + j0, hi)];
                            mt = Math.max(mt, lw[1 + j0]);
                        }
                        float ws = (float) Math.exp(lw[0] - mt);
                        double bq = ws * dot(s, no, f, qo, dk);
                        for (int j = 0; j < dv; j++) f[yo + j] = ws * dot(s, co + j * dk, f, qo, dk);
                        for (int j0 = 0; j0 <= a; j0++) {
                            int rj = d.row(bi, c0 + j0, hi);
                            float sc = (float) Math.exp(lw[1 + j0] - mt) * dot(f, qo, f, kOff + rj * dk, dk);
                            bq += sc;
                            axpy(sc, f, vOff + rj * dv, f, yo, dv);
                        }
                        float inv = (float) (1 / Math.max(Math.abs(bq), Math.exp(-mt)));
                        for (int j = 0; j < dv; j++) f[yo + j] *= inv;
                    }
                    // state at the chunk end, stabilised by the last step's m
                    float carry = (float) Math.exp(cum[len - 1] + mc - mt);
                    for (int j0 = 0; j0 < len; j0++) {
                        w[j0] = (float) Math.exp(cum[len - 1] - cum[j0] + f[iOff + d.row(bi, c0 + j0, hi)] - mt);
                    }
                    for (int e = co; e < co + dv * dk + dk; e++) s[e] *= carry;
                    for (int j0 = 0; j0 < len; j0++) {
                        int rj = d.row(bi, c0 + j0, hi), ko = kOff + rj * dk, vo = vOff + rj * dv;
                        for (int j = 0; j < dv; j++) axpy(w[j0] * f[vo + j], f, ko, s, co + j * dk, dk);
                        axpy(w[j0], f, ko, s, no, dk);
                    }
                    mc = mt;
                }
                s[mo] = (float) mc;
            }
        });
    }

    /** (dq, dk, dv, di, df) of the mLSTM cell, step by step (see the reference interpreter's derivation). */
    static void mlstmGrad(float[] f, int qOff, int kOff, int vOff, int iOff, int fOff, int yOff, int dyOff,
                          int dqOff, int dkOff, int dvOff, int diOff, int dfOff, Dims d) {
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv(), tn = d.t();
            float[] c = Scratch.floats(Scratch.A, dv * dk), n = Scratch.floats(Scratch.B, dk);
            double[] ms = Scratch.doubles(Scratch.C, tn), dens = Scratch.doubles(Scratch.D, tn), betas = Scratch.doubles(Scratch.E, tn);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h();
                Arrays.fill(c, 0, dv * dk, 0f);
                Arrays.fill(n, 0, dk, 0f);
                double m = 0;
                for (int t = 0; t < tn; t++) {
                    int row = d.row(bi, t, hi), qo = qOff + row * dk, ko = kOff + row * dk, vo = vOff + row * dv;
                    int yo = yOff + row * dv, dyo = dyOff + row * dv, dqo = dqOff + row * dk;
                    double lf = logSigmoid(f[fOff + row]), mNew = Math.max(lf + m, f[iOff + row]);
                    float fp = (float) Math.exp(lf + m - mNew), ip = (float) Math.exp(f[iOff + row] - mNew);
                    for (int i = 0; i < dk; i++) n[i] *= fp;
                    axpy(ip, f, ko, n, 0, dk);
                    for (int e = 0; e < dv * dk; e++) c[e] *= fp;
                    for (int j = 0; j < dv; j++) axpy(ip * f[vo + j], f, ko, c, j * dk, dk);
                    double bq = dot(n, 0, f, qo, dk), floor = Math.exp(-mNew), den = Math.max(Math.abs(bq), floor);
                    double beta = Math.abs(bq) > floor ? -Math.signum(bq) * dot(f, dyo, f, yo, dv) / den : 0;
                    Arrays.fill(f, dqo, dqo + dk, 0f);
                    for (int j = 0; j < dv; j++) axpy((float) (f[dyo + j] / den), c, j * dk, f, dqo, dk);
                    axpy((float) beta, n, 0, f, dqo, dk);
                    m = mNew;
                    ms[t] = m;
                    dens[t] = den;
                    betas[t] = beta;
                }
                // reverse: c holds the adjoint state Ĝ [dv][dk], n holds ĝ
                Arrays.fill(c, 0, dv * dk, 0f);
                Arrays.fill(n, 0, dk, 0f);
                double r = 0;
                for (int t = tn - 1; t >= 0; t--) {
                    int row = d.row(bi, t, hi), qo = qOff + row * dk, ko = kOff + row * dk, vo = vOff + row * dv;
                    int dyo = dyOff + row * dv, dko = dkOff + row * dk, dvo = dvOff + row * dv;
                    if (t < tn - 1) {
                        float fp1 = (float) Math.exp(logSigmoid(f[fOff + row + d.h()]) + ms[t] - ms[t + 1]);
                        for (int e = 0; e < dv * dk; e++) c[e] *= fp1;
                        for (int i = 0; i < dk; i++) n[i] *= fp1;
                    }
                    for (int j = 0; j < dv; j++) axpy((float) (f[dyo + j] / dens[t]), f, qo, c, j * dk, dk);
                    axpy((float) betas[t], f, qo, n, 0, dk);
                    float ip = (float) Math.exp(f[iOff + row] - ms[t]);
                    for (int j = 0; j < dv; j++) f[dvo + j] = ip * dot(c, j * dk, f, ko, dk);
                    System.arraycopy(n, 0, f, dko, dk);
                    for (int j = 0; j < dv; j++) axpy(f[vo + j], c, j * dk, f, dko, dk);
                    for (int i = 0; i < dk; i++) f[dko + i] *= ip;
                    double dsum = dot(f, ko, f, dko, dk);
                    f[diOff + row] = (float) dsum;
                    r += dot(f, qo, f, dqOff + row * dk, dk) - dsum;
                    f[dfOff + row] = (float) ((1 - 1 / (1 + Math.exp(-f[fOff + row]))) * r);
                }
            }
        });
    }

    /**
     * RWKV-6 wkv by chunks (of one step for value widths below 8): with A the cumulative log decay per
     * key channel inside the chunk, step a reads the carried state through e^(A_{a−1}), key j < a of the chunk through e^(A_{a−1} − A_j) (exponents
     * ≤ 0, no overflow), and its own key through the bonus u. With {@code stOff >= 0} the state
     * [B,H,dk,dv] lives there (zeroed first when pos is 0) and holds the final state afterwards.
     */
    static void wkv(float[] f, int rOff, int kOff, int vOff, int wOff, int uOff, int yOff, Dims d, int stOff, int pos) {
        // The chunk's pair weights cost dk exponentials per (step, earlier step) whatever dv is; for narrow values
        // (Mamba-1 runs on dv = 1) steps of one, the plain recurrence, are cheaper.
        int chunk = d.dv() < 8 ? 1 : CHUNK;
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv();
            float[] scratch = Scratch.floats(Scratch.A, dk * dv);
            double[] cum = Scratch.doubles(Scratch.C, chunk * dk);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h(), uo = uOff + hi * dk;
                float[] s = stOff >= 0 ? f : scratch;
                int so = stOff >= 0 ? stOff + bh * dk * dv : 0;
                if (stOff < 0 || pos == 0) Arrays.fill(s, so, so + dk * dv, 0f);
                for (int c0 = 0; c0 < d.t(); c0 += chunk) {
                    int len = Math.min(chunk, d.t() - c0);
                    for (int a = 0; a < len; a++) {
                        int wo = wOff + d.row(bi, c0 + a, hi) * dk;
                        for (int i = 0; i < dk; i++) cum[a * dk + i] = (a > 0 ? cum[(a - 1) * dk + i] : 0) - Math.exp(f[wo + i]);
                    }
                    for (int a = 0; a < len; a++) {
                        int row = d.row(bi, c0 + a, hi), ro = rOff + row * dk, yo = yOff + row * dv;
                        Arrays.fill(f, yo, yo + dv, 0f);
                        for (int i = 0; i < dk; i++) {
                            float coef = a > 0 ? (float) (f[ro + i] * Math.exp(cum[(a - 1) * dk + i])) : f[ro + i];
                            axpy(coef, s, so + i * dv, f, yo, dv);
                        }
                        for (int j0 = 0; j0 < a; j0++) {
                            int ko = kOff + d.row(bi, c0 + j0, hi) * dk;
                            double sc = 0;
                            for (int i = 0; i < dk; i++) sc += f[ro + i] * f[ko + i] * Math.exp(cum[(a - 1) * dk + i] - cum[j0 * dk + i]);
                            axpy((float) sc, f, vOff + d.row(bi, c0 + j0, hi) * dv, f, yo, dv);
                        }
                        double bonus = 0;
                        for (int i = 0; i < dk; i++) bonus += f[ro + i] * f[uo + i] * f[kOff + row * dk + i];
                        axpy((float) bonus, f, vOff + row * dv, f, yo, dv);
                    }
                    // S ← diag(e^(A_last)) S + Σ_j diag(e^(A_last − A_j)) k_j v_jᵀ
                    int last = (len - 1) * dk;
                    for (int i = 0; i < dk; i++) {
                        int si = so + i * dv;
                        float decay = (float) Math.exp(cum[last + i]);
                        for (int j = 0; j < dv; j++) s[si + j] *= decay;
                        for (int j0 = 0; j0 < len; j0++) {
                            int rj = d.row(bi, c0 + j0, hi);
                            axpy((float) (f[kOff + rj * dk + i] * Math.exp(cum[last + i] - cum[j0 * dk + i])), f, vOff + rj * dv, s, si, dv);
                        }
                    }
                }
            }
        });
    }

    /** (dr, dk, dv, dw, du[B,H,dk]) of wkv step by step (see the reference interpreter's derivation). */
    static void wkvGrad(float[] f, int rOff, int kOff, int vOff, int wOff, int uOff, int dyOff,
                        int drOff, int dkOff, int dvOff, int dwOff, int duOff, Dims d) {
        Chunks.forRange(d.b() * d.h(), 1, (r0, r1) -> {
            int dk = d.dk(), dv = d.dv(), tn = d.t();
            float[] s = Scratch.floats(Scratch.A, dk * dv), drNb = Scratch.floats(Scratch.B, tn * dk);
            double[] p = Scratch.doubles(Scratch.C, dk), q = Scratch.doubles(Scratch.D, dk), du = Scratch.doubles(Scratch.E, dk);
            for (int bh = r0; bh < r1; bh++) {
                int bi = bh / d.h(), hi = bh % d.h(), uo = uOff + hi * dk;
                Arrays.fill(s, 0, dk * dv, 0f);
                Arrays.fill(du, 0, dk, 0);
                for (int t = 0; t < tn; t++) {
                    int row = d.row(bi, t, hi), ro = rOff + row * dk, ko = kOff + row * dk, wo = wOff + row * dk;
                    int vo = vOff + row * dv, dyo = dyOff + row * dv;
                    float vdy = dot(f, vo, f, dyo, dv);
                    for (int i = 0; i < dk; i++) {
                        float nb = dot(s, i * dv, f, dyo, dv);
                        drNb[t * dk + i] = nb;
                        f[drOff + row * dk + i] = nb + f[uo + i] * f[ko + i] * vdy;
                        du[i] += (double) f[ro + i] * f[ko + i] * vdy;
                        float decay = (float) Math.exp(-Math.exp(f[wo + i]));
                        for (int j = 0; j < dv; j++) s[i * dv + j] *= decay;
                        axpy(f[ko + i], f, vo, s, i * dv, dv);
                    }
                }
                for (int i = 0; i < dk; i++) f[duOff + bh * dk + i] = (float) du[i];
                Arrays.fill(s, 0, dk * dv, 0f);
                Arrays.fill(p, 0, dk, 0);
                Arrays.fill(q, 0, dk, 0);
                for (int t = tn - 1; t >= 0; t--) {
                    int row = d.row(bi, t, hi), ro = rOff + row * dk, ko = kOff + row * dk, wo = wOff + row * dk;
                    int vo = vOff + row * dv, dyo = dyOff + row * dv, dvo = dvOff + row * dv;
                    if (t < tn - 1) {
                        int r1n = ro + d.h() * dk, w1 = wo + d.h() * dk, dy1 = dyo + d.h() * dv;
                        for (int i = 0; i < dk; i++) {
                            float decay = (float) Math.exp(-Math.exp(f[w1 + i]));
                            for (int j = 0; j < dv; j++) s[i * dv + j] *= decay;
                            axpy(f[r1n + i], f, dy1, s, i * dv, dv);
                            p[i] += (double) f[r1n + i] * drNb[(t + 1) * dk + i];
                        }
                    }
                    float vdy = dot(f, vo, f, dyo, dv);
                    double ruk = 0;
                    for (int i = 0; i < dk; i++) ruk += (double) f[ro + i] * f[uo + i] * f[ko + i];
                    for (int j = 0; j < dv; j++) f[dvo + j] = (float) (ruk * f[dyo + j]);
                    for (int i = 0; i < dk; i++) {
                        float nb = dot(s, i * dv, f, vo, dv);
                        q[i] += (double) f[ko + i] * nb;
                        f[dkOff + row * dk + i] = nb + f[ro + i] * f[uo + i] * vdy;
                        f[dwOff + row * dk + i] = (float) (-Math.exp(f[wo + i]) * (p[i] - q[i]));
                        axpy(f[ko + i], s, i * dv, f, dvo, dv);
                    }
                }
            }
        });
    }

    /** Token shift of x[B,T,D] by one step (see {@code dev.mixlab.ir.TokenShift}); stOff >= 0: the decoding form. */
    static void tokenShift(float[] f, int xOff, int yOff, int b, int t, int dn, boolean reverse, int stOff, int pos) {
        Chunks.forRange(b, 1, (b0, b1) -> {
            for (int bi = b0; bi < b1; bi++) {
                int base = bi * t * dn;
                if (reverse) {
                    System.arraycopy(f, xOff + base + dn, f, yOff + base, (t - 1) * dn);
                    Arrays.fill(f, yOff + base + (t - 1) * dn, yOff + base + t * dn, 0f);
                } else {
                    System.arraycopy(f, xOff + base, f, yOff + base + dn, (t - 1) * dn);
                    if (stOff >= 0 && pos > 0) System.arraycopy(f, stOff + bi * dn, f, yOff + base, dn);
                    else Arrays.fill(f, yOff + base, yOff + base + dn, 0f);
                    if (stOff >= 0) System.arraycopy(f, xOff + base + (t - 1) * dn, f, stOff + bi * dn, dn);
                }
            }
        });
    }
}
