namespace Grid.Serving.Batching;

/// <summary>Server-wide batching configuration: TF Serving's <c>--enable_batching</c> family.</summary>
public sealed class BatchingOptions
{
    /// <summary><c>--enable_batching</c>: when false every request is its own engine call.</summary>
    public bool Enabled { get; set; }

    /// <summary>From <c>--batching_parameters_file</c>, or TF's defaults.</summary>
    public BatchingParameters Parameters { get; set; } = new();

    /// <summary>
    /// <c>--enable_per_model_batching_parameters</c>: a version directory's
    /// <c>batching_params.pbtxt</c> replaces <see cref="Parameters"/> for that version, except
    /// <c>num_batch_threads</c>, which belongs to the shared scheduler.
    /// </summary>
    public bool PerModelParameters { get; set; }

    public void CopyFrom(BatchingOptions other)
    {
        Enabled = other.Enabled;
        Parameters = other.Parameters;
        PerModelParameters = other.PerModelParameters;
    }
}

/// <summary>
/// Creates each model version's batch queue on one shared scheduler, started on first use so
/// a server without batching runs no batch threads.
/// </summary>
public sealed class BatchQueueFactory(BatchingOptions options) : IDisposable
{
    private readonly Lazy<SharedBatchScheduler> _scheduler = new(() => new SharedBatchScheduler(options.Parameters.EffectiveNumBatchThreads));

    public bool Enabled => options.Enabled;

    /// <summary>
    /// The queue for a version loaded from <paramref name="versionDirectory"/>; null when batching
    /// is off. Throws INVALID_ARGUMENT, naming the file and field, for bad per-model parameters.
    /// </summary>
    public BatchQueue? Create(string name, string versionDirectory, BatchRunner run)
    {
        if (!options.Enabled)
        {
            return null;
        }
        var parameters = options.Parameters;
        var file = Path.Combine(versionDirectory, BatchingParameters.PerModelFileName);
        if (options.PerModelParameters && File.Exists(file))
        {
            try
            {
                parameters = BatchingParametersParser.ParseFile(file);
            }
            catch (Exception e) when (e is FormatException or IOException)
            {
                throw ServingException.InvalidArgument($"Invalid batching parameters in {file}: {e.Message}");
            }
            if (BatchingParametersValidator.Validate(parameters) is { } error)
            {
                throw ServingException.InvalidArgument($"Invalid batching parameters in {file}: {error}");
            }
        }
        return _scheduler.Value.CreateQueue(name, parameters, run);
    }

    public void Dispose()
    {
        if (_scheduler.IsValueCreated)
        {
            _scheduler.Value.Dispose();
        }
    }
}
