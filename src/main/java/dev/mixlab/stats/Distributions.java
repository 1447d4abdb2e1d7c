package dev.mixlab.stats;

/**
 * The distribution functions the race statistics need, computed in plain Java: the log-gamma
 * function (Stirling series after shifting the argument up), the regularized incomplete beta
 * function (its continued fraction, evaluated with the modified Lentz method), and from it the
 * Student-t CDF and quantile and the F-distribution tail.
 */
public final class Distributions {
    private Distributions() {}

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    /** @return ln Γ(x) for x &gt; 0, to about 1e-13 relative */
    public static double logGamma(double x) {
        if (!(x > 0)) throw new IllegalArgumentException("logGamma needs x > 0, got " + x);
        // Γ(x) = Γ(x + k) / (x (x+1) ... (x+k-1)); the Stirling series is accurate for x >= 10.
        double shift = 0;
        while (x < 10) {
            shift += Math.log(x);
            x += 1;
        }
        double z2 = 1 / (x * x);
        double series = (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 * (1.0 / 1680 - z2 / 1188)))) / x;
        return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
    }

    /** @return the regularized incomplete beta function I_x(a, b) for a, b &gt; 0 and 0 ≤ x ≤ 1 */
    public static double incompleteBeta(double x, double a, double b) {
        if (!(a > 0 && b > 0)) throw new IllegalArgumentException("incompleteBeta needs a, b > 0");
        if (!(x >= 0 && x <= 1)) throw new IllegalArgumentException("incompleteBeta needs 0 <= x <= 1, got " + x);
        if (x == 0) return 0;
        if (x == 1) return 1;
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use I_x(a,b) = 1 - I_{1-x}(b,a) otherwise.
        if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
        double lnFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b));
        return Math.exp(lnFront) / a * betaFraction(x, a, b);
    }

    /**
     * The continued fraction 1/(1+ d1/(1+ d2/(1+ ...))) with d_{2m+1} = -(a+m)(a+b+m)x/((a+2m)(a+2m+1)) and
     * d_{2m} = m(b-m)x/((a+2m-1)(a+2m)), by the modified Lentz method.
     */
    private static double betaFraction(double x, double a, double b) {
        final double tiny = 1e-300;
        double f = tiny, c = f, d = 0;
        for (int n = 0; n <= 2000; n++) {
            double num;
            if (n == 0) {
                num = 1;
            } else if (n % 2 == 0) {
                int m = n / 2;
                num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            } else {
                int m = (n - 1) / 2;
                num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            }
            // f_n = f_{n-1} * C_n * D_n for the fraction b0 + num1/(1 + num2/(1 + ...)) with b0 = 0 and each b = 1
            d = 1 + num * d;
            if (Math.abs(d) < tiny) d = tiny;
            d = 1 / d;
            c = 1 + num / c;
            if (Math.abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (n > 0 && Math.abs(delta - 1) < 1e-15) return f;
        }
        return f;
    }

    /** @return P(T ≤ t) for Student's t with {@code df} degrees of freedom (df &gt; 0, not necessarily whole) */
    public static double studentTCdf(double t, double df) {
        if (!(df > 0)) throw new IllegalArgumentException("degrees of freedom must be > 0, got " + df);
        if (Double.isNaN(t)) return Double.NaN;
        if (t == Double.POSITIVE_INFINITY) return 1;
        if (t == Double.NEGATIVE_INFINITY) return 0;
        // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)
        double tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
        return t > 0 ? 1 - tail : tail;
    }

    /** @return the t with P(T ≤ t) = p, by bisection on {@link #studentTCdf} (0 &lt; p &lt; 1) */
    public static double studentTQuantile(double p, double df) {
        if (!(p > 0 && p < 1)) throw new IllegalArgumentException("p must be in (0, 1), got " + p);
        if (p == 0.5) return 0;
        if (p < 0.5) return -studentTQuantile(1 - p, df);
        double lo = 0, hi = 1;
        while (studentTCdf(hi, df) < p) {
            lo = hi;
            hi *= 2;
            if (hi > 1e300) return Double.POSITIVE_INFINITY;
        }
        for (int i = 0; i < 200 && hi - lo > 1e-14 * Math.max(1, hi); i++) {
            double mid = 0.5 * (lo + hi);
            if (studentTCdf(mid, df) < p) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /** @return P(F &gt; f) for the F distribution with (d1, d2) degrees of freedom */
    public static double fSurvival(double f, double d1, double d2) {
        if (!(d1 > 0 && d2 > 0)) throw new IllegalArgumentException("degrees of freedom must be > 0");
        if (Double.isNaN(f)) return Double.NaN;
        if (f <= 0) return 1;
        if (f == Double.POSITIVE_INFINITY) return 0;
        return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
    }
}
