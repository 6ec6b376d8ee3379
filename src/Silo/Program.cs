using System.CommandLine;
using Grid.Silo.Commands;

namespace Grid.Silo;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Grid: an Orleans-based grid that serves ONNX, TorchScript and TensorFlow SavedModel models through TensorFlow Serving's REST and gRPC APIs.")
        {
            ServeCommand.Create(),
            SiloCommand.Create(),
            GatewayCommand.Create(),
            PredictCommand.Create(),
            LatencyCommand.Create(),
            ConvertCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return Fail(parsed.Errors[0].Message + " (see 'grid --help')");
        }
        return await parsed.InvokeAsync();
    }

    /// <summary>Reports a fatal usage or start-up error as one line on stderr.</summary>
    public static int Fail(string reason)
    {
        Console.Error.WriteLine($"grid: {reason}");
        return 2;
    }
}
