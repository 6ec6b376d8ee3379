using Grid.Serving.Batching;

namespace Grid.Serving.Tests.Batching;

public sealed class BatchingParametersParserTests
{
    [Fact]
    public void Parse_EveryField_ReadsTfServingTextFormat()
    {
        var p = BatchingParametersParser.Parse("""
            # TF Serving's documented example, plus the remaining fields
            max_batch_size { value: 128 }
            batch_timeout_micros { value: 5000 }
            max_enqueued_batches { value: 1000000 }
            num_batch_threads { value: 8 }
            thread_pool_name { value: "model_server_batch_threads" }
            allowed_batch_sizes: 32
            allowed_batch_sizes: 64
            allowed_batch_sizes: 128
            enable_large_batch_splitting { value: true }
            max_execution_batch_size { value: 128 }
            pad_variable_length_inputs: true
            """);

        Assert.Equal(128, p.MaxBatchSize);
        Assert.Equal(5000, p.BatchTimeoutMicros);
        Assert.Equal(1000000, p.MaxEnqueuedBatches);
        Assert.Equal(8, p.NumBatchThreads);
        Assert.Equal("model_server_batch_threads", p.ThreadPoolName);
        Assert.Equal([32, 64, 128], p.AllowedBatchSizes!);
        Assert.True(p.EnableLargeBatchSplitting);
        Assert.Equal(128, p.MaxExecutionBatchSize);
        Assert.True(p.PadVariableLengthInputs);
        Assert.Null(BatchingParametersValidator.Validate(p));
    }

    [Fact]
    public void Parse_EmptyText_KeepsTfDefaults()
    {
        var p = BatchingParametersParser.Parse("  # nothing set\n");

        Assert.Equal(1000, p.MaxBatchSize);
        Assert.Equal(0, p.BatchTimeoutMicros);
        Assert.Equal(10, p.MaxEnqueuedBatches);
        Assert.Equal(Environment.ProcessorCount, p.EffectiveNumBatchThreads);
        Assert.Null(p.AllowedBatchSizes);
        Assert.False(p.EnableLargeBatchSplitting);
        Assert.False(p.PadVariableLengthInputs);
    }

    [Fact]
    public void Parse_ListAngleAndColonForms_AreAccepted()
    {
        var p = BatchingParametersParser.Parse("max_batch_size: < value: 16 >, allowed_batch_sizes: [4, 8, 16]; batch_timeout_micros {value:0}");

        Assert.Equal(16, p.MaxBatchSize);
        Assert.Equal([4, 8, 16], p.AllowedBatchSizes!);
    }

    [Theory]
    [InlineData("max_batch_siz { value: 1 }", "line 1: Message type \"tensorflow.serving.BatchingParameters\" has no field named \"max_batch_siz\".")]
    [InlineData("max_batch_size { value: 1 }\nmax_batch_size { value: 2 }", "line 2: Non-repeated field \"max_batch_size\" is specified multiple times.")]
    [InlineData("max_batch_size: 12", "line 1: max_batch_size is a wrapper message: write max_batch_size { value: ... }")]
    [InlineData("\n\nmax_batch_size { value: many }", "line 3: max_batch_size: expected an integer, found 'many'")]
    [InlineData("max_batch_size { value: 99999999999 }", "line 1: max_batch_size: 99999999999 is out of range")]
    [InlineData("max_batch_size { value: 4 ", "line 1: expected '}' closing max_batch_size, found end of input")]
    [InlineData("pad_variable_length_inputs: maybe", "line 1: pad_variable_length_inputs: expected true or false, found 'maybe'")]
    [InlineData("thread_pool_name { value: \"open", "line 1: unterminated string")]
    [InlineData("max_batch_size { value: 4 } %", "line 1: unexpected character '%'")]
    public void Parse_Malformed_ThrowsWithLineAndField(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => BatchingParametersParser.Parse(text));

        Assert.Equal(message, e.Message);
    }
}

public sealed class BatchingParametersValidatorTests
{
    [Theory]
    [InlineData("max_batch_size { value: 0 }", "max_batch_size must be positive; was 0")]
    [InlineData("batch_timeout_micros { value: -1 }", "batch_timeout_micros must be non-negative; was -1")]
    [InlineData("max_enqueued_batches { value: 0 }", "max_enqueued_batches must be positive; was 0")]
    [InlineData("num_batch_threads { value: -2 }", "num_batch_threads must be positive (or 0 for one per core); was -2")]
    [InlineData("max_batch_size { value: 16 } allowed_batch_sizes: [4, 8]", "Last entry in allowed_batch_sizes must match max_batch_size; last entry was 8; expected 16")]
    [InlineData("max_batch_size { value: 16 } allowed_batch_sizes: [8, 4, 16]", "allowed_batch_sizes entries must be positive and monotonically increasing; got [8, 4, 16]")]
    [InlineData("max_batch_size { value: 16 } allowed_batch_sizes: [0, 16]", "allowed_batch_sizes entries must be positive and monotonically increasing; got [0, 16]")]
    [InlineData("max_batch_size { value: 16 } max_execution_batch_size { value: 8 }", "max_execution_batch_size is only used with enable_large_batch_splitting")]
    [InlineData("max_batch_size { value: 16 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 32 }", "max_execution_batch_size must be positive and at most max_batch_size (16); was 32")]
    [InlineData("max_batch_size { value: 16 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 8 } allowed_batch_sizes: [4, 16]", "Last entry in allowed_batch_sizes must match max_execution_batch_size; last entry was 16; expected 8")]
    public void Validate_InvalidField_NamesIt(string text, string message)
    {
        Assert.Equal(message, BatchingParametersValidator.Validate(BatchingParametersParser.Parse(text)));
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(4, 4)]
    [InlineData(5, 8)]
    [InlineData(16, 16)]
    public void PaddedSize_AllowedSizes_RoundsUpToNextAllowed(int size, int padded)
    {
        var p = new BatchingParameters(MaxBatchSize: 16, AllowedBatchSizes: [4, 8, 16]);

        Assert.Equal(padded, p.PaddedSize(size));
    }

    [Fact]
    public void PaddedSize_NoAllowedSizes_IsTheSize()
    {
        Assert.Equal(7, new BatchingParameters(MaxBatchSize: 16).PaddedSize(7));
    }
}
