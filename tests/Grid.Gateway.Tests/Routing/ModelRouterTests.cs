using Grid.Gateway.Routing;
using Grid.Models;
using Grid.Serving;

namespace Grid.Gateway.Tests.Routing;

public class ModelRouterTests
{
    private static VersionStatus Version(long version, ModelVersionState state)
        => new(version, state, ServingStatusCode.Ok, "", []);

    private static ModelStatus Status(params VersionStatus[] versions) => new("m", versions);

    [Fact]
    public void Resolve_NoVersionRequested_ReturnsHighestAvailable()
    {
        // Arrange
        var status = Status(
            Version(1, ModelVersionState.Available),
            Version(2, ModelVersionState.Available),
            Version(3, ModelVersionState.Loading),
            Version(4, ModelVersionState.End));

        // Act
        var target = ModelRouter.Resolve(status, "m", null);

        // Assert
        Assert.Equal(2L, target.Version);
        Assert.Equal(ModelVersionState.Available, target.State);
    }

    [Fact]
    public void Resolve_SpecificAvailableVersion_ReturnsIt()
    {
        // Arrange
        var status = Status(Version(1, ModelVersionState.Available), Version(2, ModelVersionState.Available));

        // Act
        var target = ModelRouter.Resolve(status, "m", 1);

        // Assert
        Assert.Equal(1L, target.Version);
    }

    [Theory]
    [InlineData(ModelVersionState.Loading)]
    [InlineData(ModelVersionState.Unloading)]
    [InlineData(ModelVersionState.End)]
    public void Resolve_SpecificVersionNotAvailable_ThrowsNotFound(ModelVersionState state)
    {
        // Arrange
        var status = Status(Version(1, ModelVersionState.Available), Version(5, state));

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", 5));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Equal("Servable not found for request: Specific(m, 5)", error.Message);
    }

    [Fact]
    public void Resolve_SpecificVersionUnknown_ThrowsNotFound()
    {
        // Arrange
        var status = Status(Version(1, ModelVersionState.Available));

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", 5));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Equal("Servable not found for request: Specific(m, 5)", error.Message);
    }

    [Fact]
    public void Resolve_UnknownModel_ThrowsNotFoundForLatest()
    {
        // Arrange
        var status = Status();

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", null));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Equal("Servable not found for request: Latest(m)", error.Message);
    }

    [Fact]
    public void Resolve_NoVersionAvailableYet_ThrowsNotFoundForLatest()
    {
        // Arrange
        var status = Status(Version(1, ModelVersionState.Loading), Version(2, ModelVersionState.Start));

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", null));

        // Assert
        Assert.Equal("Servable not found for request: Latest(m)", error.Message);
    }

    [Fact]
    public void Resolve_LatestWhenTheOnlyVersionCannotBePlaced_ThrowsUnavailableWithTheReason()
    {
        // Arrange
        var status = Status(new VersionStatus(1, ModelVersionState.End, ServingStatusCode.Unavailable, "Model m version 1 cannot be placed. No silo can host it: it needs a usable GPU", []) { Unplaced = true });

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", null));

        // Assert
        Assert.Equal(ServingStatusCode.Unavailable, error.Code);
        Assert.Contains("needs a usable GPU", error.Message);
    }

    [Fact]
    public void Resolve_SpecificVersionUnplacedWhileAnotherServes_ThrowsUnavailableForIt()
    {
        // Arrange
        var status = Status(
            Version(1, ModelVersionState.Available),
            new VersionStatus(2, ModelVersionState.End, ServingStatusCode.Unavailable, "cannot be placed", []) { Unplaced = true });

        // Act
        var error = Assert.Throws<ServingException>(() => ModelRouter.Resolve(status, "m", 2));
        var latest = ModelRouter.Resolve(status, "m", null);

        // Assert
        Assert.Equal(ServingStatusCode.Unavailable, error.Code);
        Assert.Equal(1L, latest.Version);
    }
}
