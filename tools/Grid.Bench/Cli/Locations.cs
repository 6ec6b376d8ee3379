namespace Grid.Bench.Cli;

/// <summary>Finds the repository, the example models and the grid executable.</summary>
public static class Locations
{
    /// <summary>The directory holding Grid.sln, above the working directory or above this executable.</summary>
    public static string? RepositoryRoot { get; } = FindUp(Directory.GetCurrentDirectory(), "Grid.sln") ?? FindUp(AppContext.BaseDirectory, "Grid.sln");

    public static string DefaultExamples()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "examples", "models");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return Path.Combine("examples", "models");
    }

    /// <summary>The real SavedModels the project's tests use: ../shared/fixtures/savedmodels beside the repository.</summary>
    public static string DefaultSavedModels() =>
        Path.GetFullPath(Path.Combine(RepositoryRoot ?? Directory.GetCurrentDirectory(), "..", "shared", "fixtures", "savedmodels"));

    /// <summary>artifacts/bench/&lt;timestamp&gt;/ under the repository (or the working directory).</summary>
    public static string DefaultOutput(DateTimeOffset now) =>
        Path.Combine(RepositoryRoot ?? Directory.GetCurrentDirectory(), "artifacts", "bench", now.ToLocalTime().ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// grid.dll: next to grid-bench.dll (the ProjectReference copies it there with its
    /// runtimeconfig and deps), else the src/Silo build output of the same configuration.
    /// </summary>
    public static string? FindGridDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "grid.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "grid.runtimeconfig.json")))
        {
            return local;
        }
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        if (RepositoryRoot is not null)
        {
            var built = Path.Combine(RepositoryRoot, "src", "Silo", "bin", configuration, "net10.0", "grid.dll");
            if (File.Exists(built))
            {
                return built;
            }
        }
        return null;
    }

    private static string? FindUp(string start, string file)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, file)))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
