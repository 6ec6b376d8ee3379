namespace Grid.Testing;

/// <summary>Well-known paths of the repository the tests run from.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ExampleModels => Path.Combine(Root, "examples", "models");

    public static string TestModels => Path.Combine(Root, "tests", "Grid.Testing", "Models");

    /// <summary>A model version directory under <c>tests/Grid.Testing/Models</c>.</summary>
    public static string TestModel(string name, long version = 1) => Path.Combine(TestModels, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A model version directory under <c>examples/models</c>.</summary>
    public static string ExampleModel(string name, long version) => Path.Combine(ExampleModels, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string Fixtures => Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures", "tf-serving-testdata"));

    /// <summary>Real TensorFlow SavedModels (<c>NAME/1/</c>), described in their CATALOG.md.</summary>
    public static string SavedModels => Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures", "savedmodels"));

    /// <summary>
    /// The <c>grid</c> executable (grid.dll) the tests start: <c>GRID_DLL</c> when set (the GPU
    /// suite runs a host-libtorch publish that way), else the build of the tests' configuration.
    /// </summary>
    public static string GridDll => Environment.GetEnvironmentVariable("GRID_DLL") is { Length: > 0 } dll
        ? Path.GetFullPath(dll)
        : BuiltDll(Path.Combine("src", "Silo"), "grid.dll");

    /// <summary>The built <c>grid-bench</c> tool of the same configuration as the tests.</summary>
    public static string BenchDll => BuiltDll(Path.Combine("tools", "Grid.Bench"), "grid-bench.dll");

    private static string BuiltDll(string project, string file)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(Root, project, "bin", configuration, "net10.0", file);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{file} not built at {path}; build {project} in {configuration} first.");
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Grid.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Grid.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "grid-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates a subdirectory (and its parents) and returns its full path.</summary>
    public string CreateDirectory(params string[] parts)
    {
        var full = Combine(parts);
        Directory.CreateDirectory(full);
        return full;
    }

    /// <summary>Writes a file (creating its directory) and returns its full path.</summary>
    public string WriteFile(string relativePath, byte[] content)
    {
        var full = Combine(relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return full;
    }

    /// <summary>Copies a version directory (files only, recursively) to <paramref name="target"/>.</summary>
    public static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var dest = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
