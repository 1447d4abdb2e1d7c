package dev.mixlab.backend.reference;

import dev.mixlab.backend.reference.ReferenceInterpreter.Tensor;
import dev.mixlab.ir.Shape;
import java.util.ArrayList;
import java.util.List;

/** Layer and RMS normalisation, forward and backward, in float64. */
final class Norm {
    private Norm() {}

    static double[] layerNorm(double[] x, double[] w, double[] b, int d, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            int o = r * d;
            double mean = 0, var = 0;
            for (int j = 0; j < d; j++) mean += x[o + j];
            mean /= d;
            for (int j = 0; j < d; j++) var += (x[o + j] - mean) * (x[o + j] - mean);
            double rstd = 1 / Math.sqrt(var / d + eps);
            for (int j = 0; j < d; j++) {
                double v = (x[o + j] - mean) * rstd;
                if (w != null) v *= w[j];
                if (b != null) v += b[j];
                y[o + j] = v;
            }
        }
        return y;
    }

    static Tensor[] layerNormGrad(Tensor xt, double[] w, double[] dy, double eps, boolean hasW, boolean hasB) {
        double[] x = xt.f();
        int d = xt.shape().last();
        double[] dx = new double[x.length], dw = new double[d], db = new double[d];
        for (int r = 0; r < x.length / d; r++) {
            int o = r * d;
            double mean = 0, var = 0;
            for (int j = 0; j < d; j++) mean += x[o + j];
            mean /= d;
            for (int j = 0; j < d; j++) var += (x[o + j] - mean) * (x[o + j] - mean);
            double rstd = 1 / Math.sqrt(var / d + eps);
            double sumG = 0, sumGX = 0;
            for (int j = 0; j < d; j++) {
                double xhat = (x[o + j] - mean) * rstd;
                double g = dy[o + j] * (w != null ? w[j] : 1);
                sumG += g;
                sumGX += g * xhat;
                dw[j] += dy[o + j] * xhat;
                db[j] += dy[o + j];
            }
            for (int j = 0; j < d; j++) {
                double xhat = (x[o + j] - mean) * rstd;
                double g = dy[o + j] * (w != null ? w[j] : 1);
                dx[o + j] = rstd * (g - sumG / d - xhat * sumGX / d);
            }
        }
        List<Tensor> out = new ArrayList<>();
        out.add(Tensor.of(xt.shape(), dx));
        if (hasW) out.add(Tensor.of(Shape.of(d), dw));
        if (hasB) out.add(Tensor.of(Shape.of(d), db));
        return out.toArray(Tensor[]::new);
    }

    static double[] rmsNorm(double[] x, double[] w, int d, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            int o = r * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += x[o + j] * x[o + j];
            double rs = 1 / Math.sqrt(ss / d + eps);
            for (int j = 0; j < d; j++) y[o + j] = x[o + j] * rs * (w != null ? w[j] : 1);
        }
        return y;
    }

    static Tensor[] rmsNormGrad(Tensor xt, double[] w, double[] dy, double eps, boolean hasW) {
        double[] x = xt.f();
        int d = xt.shape().last();
        double[] dx = new double[x.length], dw = new double[d];
        for (int r = 0; r < x.length / d; r++) {
            int o = r * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += x[o + j] * x[o + j];
            double rs = 1 / Math.sqrt(ss / d + eps);
            double sumGX = 0;
            for (int j = 0; j < d; j++) {
                double xhat = x[o + j] * rs;
                double g = dy[o + j] * (w != null ? w[j] : 1);
                sumGX += g * xhat;
                dw[j] += dy[o + j] * xhat;
            }
            for (int j = 0; j < d; j++) {
                double g = dy[o + j] * (w != null ? w[j] : 1);
                dx[o + j] = rs * (g - x[o + j] * rs * sumGX / d);
            }
        }
        return hasW ? new Tensor[] {Tensor.of(xt.shape(), dx), Tensor.of(Shape.of(d), dw)} : new Tensor[] {Tensor.of(xt.shape(), dx)};
    }
}
