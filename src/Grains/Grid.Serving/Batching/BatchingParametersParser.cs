using System.Globalization;
using Grid.Serving.Configuration;

namespace Grid.Serving.Batching;

/// <summary>
/// Reads TF Serving's <c>--batching_parameters_file</c>: a <c>BatchingParameters</c> message
/// in protobuf text format, e.g. <c>max_batch_size { value: 128 }</c>. Wrapper fields take
/// <c>{ value: X }</c> (or <c>&lt; value: X &gt;</c>); <c>allowed_batch_sizes</c> is a repeated
/// scalar, written once per entry or as a list. Pure; errors are <see cref="FormatException"/>
/// with a line number and the field's name.
/// </summary>
public static class BatchingParametersParser
{
    private const string MessageName = "tensorflow.serving.BatchingParameters";

    public static BatchingParameters ParseFile(string path) => Parse(File.ReadAllText(path));

    public static BatchingParameters Parse(string text)
    {
        var reader = new TextFormatReader(text);
        var p = new BatchingParameters();
        var allowed = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Peek() is { } token)
        {
            if (token.Kind is TokenKind.Comma or TokenKind.Semicolon)
            {
                reader.Next();
                continue;
            }
            var name = reader.Expect(TokenKind.Identifier, "a field name").Text;
            if (name == "allowed_batch_sizes")
            {
                reader.Expect(TokenKind.Colon, "':' after allowed_batch_sizes");
                if (reader.TryConsume(TokenKind.OpenBracket))
                {
                    if (!reader.TryConsume(TokenKind.CloseBracket))
                    {
                        do
                        {
                            allowed.Add(reader.ReadInt32(name));
                        }
                        while (reader.TryConsume(TokenKind.Comma));
                        reader.Expect(TokenKind.CloseBracket, "']' closing allowed_batch_sizes");
                    }
                }
                else
                {
                    allowed.Add(reader.ReadInt32(name));
                }
                continue;
            }
            if (!seen.Add(name))
            {
                throw reader.Error($"Non-repeated field \"{name}\" is specified multiple times.");
            }
            p = name switch
            {
                "max_batch_size" => p with { MaxBatchSize = reader.ReadWrapper(name, r => r.ReadInt32(name)) },
                "batch_timeout_micros" => p with { BatchTimeoutMicros = reader.ReadWrapper(name, r => r.ReadInt64(name)) },
                "max_enqueued_batches" => p with { MaxEnqueuedBatches = reader.ReadWrapper(name, r => r.ReadInt32(name)) },
                "num_batch_threads" => p with { NumBatchThreads = reader.ReadWrapper(name, r => r.ReadInt32(name)) },
                "thread_pool_name" => p with { ThreadPoolName = reader.ReadWrapper(name, r => r.ReadString(name)) },
                "enable_large_batch_splitting" => p with { EnableLargeBatchSplitting = reader.ReadWrapper(name, r => r.ReadBool(name)) },
                "max_execution_batch_size" => p with { MaxExecutionBatchSize = reader.ReadWrapper(name, r => r.ReadInt32(name)) },
                "pad_variable_length_inputs" => p with { PadVariableLengthInputs = reader.ReadBool(name, allowColonForm: true) },
                _ => throw reader.Error($"Message type \"{MessageName}\" has no field named \"{name}\"."),
            };
        }
        return allowed.Count > 0 ? p with { AllowedBatchSizes = allowed } : p;
    }
}
