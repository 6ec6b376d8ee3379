namespace Grid.Serving.Tests.TestSupport;

/// <summary>Locates files that live in the repository (the tiny test models and the examples).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    /// <summary>A model version directory under <c>tests/Grid.Testing/Models</c>.</summary>
    public static string TestModel(string name, long version = 1)
        => Path.Combine(Root, "tests", "Grid.Testing", "Models", name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A model version directory under <c>examples/models</c>.</summary>
    public static string ExampleModel(string name, long version)
        => Path.Combine(Root, "examples", "models", name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Grid.sln"))
                || Directory.Exists(Path.Combine(dir.FullName, ".git"))
                || File.Exists(Path.Combine(dir.FullName, ".git"))
                || Directory.Exists(Path.Combine(dir.FullName, "examples", "models")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Cannot find the repository root above {AppContext.BaseDirectory}");
    }
}
