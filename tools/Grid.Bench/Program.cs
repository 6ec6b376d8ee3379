using Grid.Bench.Cli;

namespace Grid.Bench;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var parsed = BenchCommand.Create().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return Fail(parsed.Errors[0].Message + " (see 'grid-bench --help')");
        }
        return await parsed.InvokeAsync();
    }

    /// <summary>Reports a usage or start-up error as one line on stderr; exit status 2.</summary>
    public static int Fail(string reason)
    {
        Console.Error.WriteLine($"grid-bench: {reason}");
        return 2;
    }
}
