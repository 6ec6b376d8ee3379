namespace Grid.Serving.Repository;

/// <summary>
/// TF Serving's version directory rule: a version is a subdirectory whose whole name is a
/// non-negative decimal integer that fits in int64. Leading zeros are allowed
/// (<c>00000123</c> is version 123); anything else is not a version.
/// </summary>
public static class VersionDirectoryParser
{
    public static bool TryParse(string name, out long version)
    {
        version = 0;
        if (name.Length == 0)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return long.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version);
    }
}
