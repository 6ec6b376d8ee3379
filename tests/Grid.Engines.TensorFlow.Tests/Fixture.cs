using Grid.Testing;

namespace Grid.Engines.TensorFlow.Tests;

/// <summary>Paths of the shared SavedModel fixtures (read-only; tests that damage files copy them first).</summary>
internal static class Fixture
{
    /// <summary>A model of shared/fixtures/savedmodels (version 1).</summary>
    public static string SavedModel(string name) => Path.Combine(RepoPaths.SavedModels, name, "1");

    /// <summary>A model of TF Serving's test data (version 00000123).</summary>
    public static string Serving(string name) => Path.Combine(RepoPaths.Fixtures, name, "00000123");

    /// <summary>Every SavedModel version directory of both fixture sets.</summary>
    public static IEnumerable<string> AllSavedModelDirectories() =>
        Directory.EnumerateDirectories(RepoPaths.SavedModels).Select(d => Path.Combine(d, "1"))
            .Concat(Directory.EnumerateDirectories(RepoPaths.Fixtures, "saved_model_*").SelectMany(Directory.EnumerateDirectories))
            .Where(d => File.Exists(Path.Combine(d, "saved_model.pb")))
            .Order(StringComparer.Ordinal);

    /// <summary>Copies a version directory into <paramref name="temp"/> and returns the copy's path.</summary>
    public static string Copy(TempDirectory temp, string source)
    {
        var target = temp.Combine("model");
        TempDirectory.CopyDirectory(source, target);
        return target;
    }
}
