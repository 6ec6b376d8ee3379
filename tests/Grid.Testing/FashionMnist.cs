using System.IO.Compression;

namespace Grid.Testing;

/// <summary>
/// Reads Fashion-MNIST from Debian's <c>dataset-fashion-mnist</c> package (IDX files, gzip).
/// Pixels are scaled to [0,1], as the example models expect.
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the files are read from: <c>FASHION_MNIST_DIR</c> when set (machines without the Debian package), else <see cref="DefaultDirectory"/>.</summary>
    public static string Directory => Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") is { Length: > 0 } dir ? dir : DefaultDirectory;

    public static (float[][] Images, byte[] Labels) LoadTest(int count, string? directory = null)
    {
        directory ??= Directory;
        var images = ReadIdx(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), 2051, out var dims);
        var labels = ReadIdx(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), 2049, out _);
        var pixels = dims[1] * dims[2];
        var result = new float[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = new float[pixels];
            for (var p = 0; p < pixels; p++)
            {
                result[i][p] = images[i * pixels + p] / 255f;
            }
        }
        return (result, labels[..count]);
    }

    /// <summary>Reads one gzipped IDX file (the MNIST family's format): its dimensions and raw bytes.</summary>
    public static byte[] ReadIdx(string path, int magic, out int[] dims)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: install Debian's dataset-fashion-mnist (scripts/install-test-deps.sh does).");
        }
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        var bytes = ms.ToArray();
        int ReadInt(int offset) => (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
        if (ReadInt(0) != magic)
        {
            throw new InvalidDataException($"{path}: bad IDX magic");
        }
        var rank = bytes[3];
        dims = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            dims[i] = ReadInt(4 + 4 * i);
        }
        return bytes[(4 + 4 * rank)..];
    }
}

/// <summary>
/// Reads the canonical MNIST test set from <c>../shared/fixtures/datasets/mnist</c> (IDX, gzip),
/// as raw pixels 0–255 (the models differ in how they scale them).
/// </summary>
public static class Mnist
{
    public static string Directory => System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoPaths.Root, "..", "shared", "fixtures", "datasets", "mnist"));

    public static (byte[][] Images, byte[] Labels) LoadTest(int count)
    {
        var images = FashionMnist.ReadIdx(System.IO.Path.Combine(Directory, "t10k-images-idx3-ubyte.gz"), 2051, out var dims);
        var labels = FashionMnist.ReadIdx(System.IO.Path.Combine(Directory, "t10k-labels-idx1-ubyte.gz"), 2049, out _);
        var pixels = dims[1] * dims[2];
        return ([.. Enumerable.Range(0, count).Select(i => images.AsSpan(i * pixels, pixels).ToArray())], labels[..count]);
    }
}
