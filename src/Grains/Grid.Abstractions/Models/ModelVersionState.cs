namespace Grid.Models;

/// <summary>
/// A version's lifecycle, with TF Serving's names and numbers.
/// Legal transitions: Start → Loading → Available → Unloading → End, and Loading → End on a
/// failed load. An End version that becomes aspired again (or whose files change after a
/// failure) starts over at Start.
/// </summary>
[GenerateSerializer]
public enum ModelVersionState
{
    Unknown = 0,
    Start = 10,
    Loading = 20,
    Available = 30,
    Unloading = 40,
    End = 50,
}
