namespace LoadDriver;

/// <summary>Latency histogram with ~2 % relative resolution (log buckets), one per connection and merged at the end.</summary>
internal sealed class Histogram
{
    private const double Scale = 50;
    private readonly long[] _buckets = new long[1200];

    public long Count { get; private set; }

    public void RecordMicroseconds(double us)
    {
        var index = (int)(Math.Log(Math.Max(us, 0) + 1) * Scale);
        _buckets[Math.Min(index, _buckets.Length - 1)]++;
        Count++;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] += other._buckets[i];
        }

        Count += other.Count;
    }

    /// <summary>The value (µs) below which the fraction <paramref name="q"/> of the samples lie.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var target = (long)Math.Ceiling(q * Count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= target)
            {
                return Math.Exp((i + 0.5) / Scale) - 1;
            }
        }

        return double.PositiveInfinity;
    }
}
