namespace Grid.Serving.Batching;

/// <summary>
/// TF Serving's <c>BatchingParameters</c> (session_bundle_config.proto), with TF's defaults for
/// fields a file leaves out. Immutable; check it with <see cref="BatchingParametersValidator"/>
/// before use.
/// </summary>
/// <param name="MaxBatchSize">Largest batch; with splitting, the largest single request.</param>
/// <param name="BatchTimeoutMicros">How long an under-full batch waits for more requests.</param>
/// <param name="MaxEnqueuedBatches">Queue bound per model version, counted in batches, the open one included.</param>
/// <param name="NumBatchThreads">Batches run concurrently; scheduler-wide, read from the server's file only.</param>
/// <param name="AllowedBatchSizes">Increasing sizes a batch is padded up to; empty: no padding.</param>
/// <param name="EnableLargeBatchSplitting">Split a request across batches instead of closing the open batch.</param>
/// <param name="MaxExecutionBatchSize">With splitting, the largest batch run; defaults to <paramref name="MaxBatchSize"/>.</param>
/// <param name="PadVariableLengthInputs">Pad dimensions 1.. to the batch's maximum with each tensor's first element.</param>
public sealed record BatchingParameters(
    int MaxBatchSize = BatchingParameters.DefaultMaxBatchSize,
    long BatchTimeoutMicros = 0,
    int MaxEnqueuedBatches = BatchingParameters.DefaultMaxEnqueuedBatches,
    int NumBatchThreads = 0,
    IReadOnlyList<int>? AllowedBatchSizes = null,
    bool EnableLargeBatchSplitting = false,
    int? MaxExecutionBatchSize = null,
    bool PadVariableLengthInputs = false,
    string? ThreadPoolName = null)
{
    public const int DefaultMaxBatchSize = 1000;
    public const int DefaultMaxEnqueuedBatches = 10;

    /// <summary>TF Serving's file name for per-model parameters inside a version directory.</summary>
    public const string PerModelFileName = "batching_params.pbtxt";

    /// <summary>The size limit on a batch that is run.</summary>
    public int ExecutionBatchLimit => EnableLargeBatchSplitting ? MaxExecutionBatchSize ?? MaxBatchSize : MaxBatchSize;

    /// <summary>Batch threads, with 0 meaning one per core as in TF Serving.</summary>
    public int EffectiveNumBatchThreads => NumBatchThreads > 0 ? NumBatchThreads : Environment.ProcessorCount;

    public TimeSpan BatchTimeout => TimeSpan.FromTicks(BatchTimeoutMicros * 10);

    /// <summary>The size a batch of <paramref name="size"/> rows is padded to.</summary>
    public int PaddedSize(int size)
    {
        if (AllowedBatchSizes is not { Count: > 0 } allowed)
        {
            return size;
        }
        foreach (var a in allowed)
        {
            if (a >= size)
            {
                return a;
            }
        }
        return size;
    }
}

/// <summary>Checks parameters the way TF Serving does at start-up; messages name the field.</summary>
public static class BatchingParametersValidator
{
    public static string? Validate(BatchingParameters p)
    {
        if (p.MaxBatchSize <= 0)
        {
            return $"max_batch_size must be positive; was {p.MaxBatchSize}";
        }
        if (p.BatchTimeoutMicros < 0)
        {
            return $"batch_timeout_micros must be non-negative; was {p.BatchTimeoutMicros}";
        }
        if (p.MaxEnqueuedBatches <= 0)
        {
            return $"max_enqueued_batches must be positive; was {p.MaxEnqueuedBatches}";
        }
        if (p.NumBatchThreads < 0)
        {
            return $"num_batch_threads must be positive (or 0 for one per core); was {p.NumBatchThreads}";
        }
        if (p.MaxExecutionBatchSize is { } exec)
        {
            if (!p.EnableLargeBatchSplitting)
            {
                return "max_execution_batch_size is only used with enable_large_batch_splitting";
            }
            if (exec <= 0 || exec > p.MaxBatchSize)
            {
                return $"max_execution_batch_size must be positive and at most max_batch_size ({p.MaxBatchSize}); was {exec}";
            }
        }
        if (p.AllowedBatchSizes is { Count: > 0 } allowed)
        {
            var previous = 0;
            foreach (var size in allowed)
            {
                if (size <= previous)
                {
                    return $"allowed_batch_sizes entries must be positive and monotonically increasing; got [{string.Join(", ", allowed)}]";
                }
                previous = size;
            }
            var limit = p.ExecutionBatchLimit;
            if (allowed[^1] != limit)
            {
                var field = p.EnableLargeBatchSplitting ? "max_execution_batch_size" : "max_batch_size";
                return $"Last entry in allowed_batch_sizes must match {field}; last entry was {allowed[^1]}; expected {limit}";
            }
        }
        return null;
    }
}
