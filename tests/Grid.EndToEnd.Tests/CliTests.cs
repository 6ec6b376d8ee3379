using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary>The grid command line: help, flag errors, and the predict client.</summary>
[Collection(SharedGridCollection.Name)]
public sealed class CliTests(SharedGridFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ServeHelp_DocumentsEveryFlag()
    {
        var (exit, stdout, _) = await GridCli.RunAsync(Timeout, "serve", "--help");

        Assert.Equal(0, exit);
        foreach (var flag in new[] { "--port", "--rest_api_port", "--host", "--model_name", "--model_base_path", "--model_repository", "--file_system_poll_wait_seconds", "--max_message_bytes", "--silo_port", "--enable_batching", "--batching_parameters_file", "--enable_per_model_batching_parameters", "--tensorflow_intra_op_parallelism" })
        {
            Assert.Contains(flag, stdout);
        }
    }

    [Fact]
    public async Task Serve_UnknownFlag_ExitsNonZeroWithOneLine()
    {
        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--no_such_flag", "1");

        Assert.NotEqual(0, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("grid: ", line);
        Assert.Contains("--no_such_flag", line);
    }

    [Fact]
    public async Task Serve_MissingBasePath_ExitsNonZeroNamingTheFlag()
    {
        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--model_base_path", "/definitely/not/here");

        Assert.NotEqual(0, exit);
        Assert.Equal("grid: --model_base_path '/definitely/not/here' is not a directory", stderr.Trim());
    }

    [Theory]
    [InlineData("max_batch_size { value: 16 }\nallowed_batch_sizes: [4, 8]\n", true,
        "grid: --batching_parameters_file '{file}': Last entry in allowed_batch_sizes must match max_batch_size; last entry was 8; expected 16")]
    [InlineData("max_batch_size { value: 16 }\nmax_batch_sise { value: 1 }\n", true,
        "grid: --batching_parameters_file '{file}': line 2: Message type \"tensorflow.serving.BatchingParameters\" has no field named \"max_batch_sise\".")]
    [InlineData("max_batch_size { value: 16 }\n", false,
        "grid: --batching_parameters_file is set without setting --enable_batching")]
    public async Task Serve_BadBatchingParametersFile_ExitsWithOneLineNamingTheProblem(string content, bool enableBatching, string expected)
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("batching.txt");
        File.WriteAllText(file, content);
        string[] batching = enableBatching ? ["--enable_batching"] : [];

        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, ["serve", .. batching, "--batching_parameters_file", file]);

        Assert.Equal(2, exit);
        Assert.Equal(expected.Replace("{file}", file), stderr.Trim());
    }

    [Fact]
    public async Task Serve_NegativeIntraOpParallelism_ExitsNonZeroNamingTheFlag()
    {
        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--tensorflow_intra_op_parallelism", "-1");

        Assert.Equal(2, exit);
        Assert.Equal("grid: --tensorflow_intra_op_parallelism must be between 0 and 1024, got -1", stderr.Trim());
    }

    [Theory]
    [InlineData("grid: --cluster 'http://127.0.0.1:6379': only redis:// addresses are supported", "silo", "--cluster", "http://127.0.0.1:6379")]
    [InlineData("grid: --devices 'cpu,tpu:0': 'tpu:0' is not a device; expected 'cpu' or 'gpu:N' (e.g. --devices cpu,gpu:0,gpu:1)", "silo", "--cluster", "redis://127.0.0.1:6379", "--devices", "cpu,tpu:0")]
    [InlineData("grid: --model_device 'tpu' must be gpu, cpu or any", "silo", "--cluster", "redis://127.0.0.1:6379", "--model_device", "tpu")]
    [InlineData("grid: --cluster 'redis://127.0.0.1': expected redis://HOST:PORT", "gateway", "--cluster", "redis://127.0.0.1")]
    [InlineData("grid: --admin_token must be at least 8 characters with no spaces", "gateway", "--cluster", "redis://127.0.0.1:6379", "--admin_token", "short")]
    public async Task ClusterRoles_BadFlag_ExitWithOneLineNamingIt(string expected, params string[] args)
    {
        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, args);

        Assert.Equal(2, exit);
        Assert.Equal(expected, stderr.Trim());
    }

    [Fact]
    public async Task Serve_SamePorts_ExitsNonZero()
    {
        var (exit, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--port", "9000", "--rest_api_port", "9000");

        Assert.NotEqual(0, exit);
        Assert.Contains("must differ", stderr);
    }

    [Fact]
    public async Task Predict_JsonFile_PrintsOutputs()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("request.json");
        await File.WriteAllTextAsync(file, """{"instances": [1.0, 2.0, 5.0]}""").DefaultTimeout();

        var (exit, stdout, stderr) = await GridCli.RunAsync(Timeout,
            "predict", "--target", $"127.0.0.1:{fixture.Grid.GrpcPort}", "--model", "half_plus_two", "--json", file);

        Assert.True(exit == 0, stderr);
        Assert.Equal("""{"predictions":[2.5,3.0,4.5]}""", stdout.Trim());
    }

    [Fact]
    public async Task Predict_UnknownModel_ExitsNonZeroWithServerMessage()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("request.json");
        await File.WriteAllTextAsync(file, """{"instances": [1.0]}""").DefaultTimeout();

        var (exit, _, stderr) = await GridCli.RunAsync(Timeout,
            "predict", "--target", $"127.0.0.1:{fixture.Grid.GrpcPort}", "--model", "nope", "--json", file);

        Assert.NotEqual(0, exit);
        Assert.Contains("Servable not found for request: Latest(nope)", stderr);
    }
}

[Collection(SharedGridCollection.Name)]
public sealed class LatencyCommandTests(SharedGridFixture fixture)
{
    [Fact]
    public async Task Latency_AgainstServer_PrintsPercentilesForBothProtocols()
    {
        var (exit, stdout, stderr) = await GridCli.RunAsync(TimeSpan.FromSeconds(60),
            "latency", "--port", fixture.Grid.GrpcPort.ToString(), "--rest_api_port", fixture.Grid.RestPort.ToString(), "--requests", "20", "--warmup", "2");

        Assert.True(exit == 0, stderr);
        Assert.Contains("| REST |", stdout);
        Assert.Contains("| gRPC |", stdout);
    }
}
