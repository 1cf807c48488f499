namespace XsaveLab.Sim.Cost;

/// <summary>Ordinary least squares with non-negative coefficients (a small active-set loop: a coefficient
/// that comes out negative is pinned to 0 and the rest refitted), plus the coefficient covariance
/// σ²(XᵀX)⁻¹ used to put error bars on predicted differences.</summary>
public static class LeastSquares
{
    public sealed record Fit(double[] Coefficients, double[,] Covariance, double ResidualStdDev, double RelativeResidualPct, int Samples);

    public static Fit NonNegative(IReadOnlyList<double[]> rows, IReadOnlyList<double> y)
    {
        if (rows.Count == 0 || rows.Count != y.Count)
            throw new ArgumentException("need as many targets as rows, at least one");
        int p = rows[0].Length;
        var active = new bool[p];
        for (int j = 0; j < p; j++)
            active[j] = rows.Any(r => r[j] != 0);
        double[] beta = new double[p];
        double[,] cov = new double[p, p];
        for (int iter = 0; iter <= p; iter++)
        {
            (beta, cov) = Solve(rows, y, active);
            int worst = -1;
            for (int j = 0; j < p; j++)
                if (active[j] && beta[j] < 0 && (worst < 0 || beta[j] < beta[worst]))
                    worst = j;
            if (worst < 0)
                break;
            active[worst] = false;
        }
        double ss = 0, rel = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            double pred = Dot(rows[i], beta);
            ss += (y[i] - pred) * (y[i] - pred);
            rel += y[i] != 0 ? Math.Pow((y[i] - pred) / y[i], 2) : 0;
        }
        int dof = Math.Max(1, rows.Count - active.Count(a => a));
        double sigma2 = ss / dof;
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                cov[a, b] *= sigma2;
        return new Fit(beta, cov, Math.Sqrt(sigma2), Math.Sqrt(rel / rows.Count) * 100, rows.Count);
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
            s += a[i] * b[i];
        return s;
    }

    /// <summary>Standard deviation of gᵀβ given the coefficient covariance.</summary>
    public static double StdDevOf(double[] g, double[,] cov)
    {
        double v = 0;
        for (int a = 0; a < g.Length; a++)
            for (int b = 0; b < g.Length; b++)
                v += g[a] * cov[a, b] * g[b];
        return Math.Sqrt(Math.Max(0, v));
    }

    /// <summary>Solves the normal equations on the active columns; returns β and (XᵀX)⁻¹ (zero outside).</summary>
    private static (double[] Beta, double[,] Inverse) Solve(IReadOnlyList<double[]> rows, IReadOnlyList<double> y, bool[] active)
    {
        int p = active.Length;
        var idx = Enumerable.Range(0, p).Where(j => active[j]).ToArray();
        int k = idx.Length;
        var a = new double[k, 2 * k + 1];
        for (int r = 0; r < rows.Count; r++)
            for (int i = 0; i < k; i++)
            {
                double xi = rows[r][idx[i]];
                for (int j = 0; j < k; j++)
                    a[i, j] += xi * rows[r][idx[j]];
                a[i, 2 * k] += xi * y[r];
            }
        for (int i = 0; i < k; i++)
            a[i, k + i] = 1;
        // Gauss-Jordan with partial pivoting on [XᵀX | I | Xᵀy]; a tiny ridge keeps near-collinear sweeps solvable.
        for (int i = 0; i < k; i++)
            a[i, i] += 1e-9 * (1 + Math.Abs(a[i, i]));
        for (int c = 0; c < k; c++)
        {
            int piv = c;
            for (int r = c + 1; r < k; r++)
                if (Math.Abs(a[r, c]) > Math.Abs(a[piv, c]))
                    piv = r;
            if (piv != c)
                for (int j = 0; j <= 2 * k; j++)
                    (a[c, j], a[piv, j]) = (a[piv, j], a[c, j]);
            double d = a[c, c];
            if (Math.Abs(d) < 1e-300)
                continue;
            for (int j = 0; j <= 2 * k; j++)
                a[c, j] /= d;
            for (int r = 0; r < k; r++)
            {
                if (r == c || a[r, c] == 0)
                    continue;
                double f = a[r, c];
                for (int j = 0; j <= 2 * k; j++)
                    a[r, j] -= f * a[c, j];
            }
        }
        var beta = new double[p];
        var inv = new double[p, p];
        for (int i = 0; i < k; i++)
        {
            beta[idx[i]] = a[i, 2 * k];
            for (int j = 0; j < k; j++)
                inv[idx[i], idx[j]] = a[i, k + j];
        }
        return (beta, inv);
    }
}
