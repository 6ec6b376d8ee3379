using Grid.Devices;
using Grid.Serving.Configuration;

namespace Grid.Serving.Tests.Configuration;

public class ModelConfigParserTests
{
    private const string UnknownModelField = "Message type \"inference.ModelConfig\" has no field named \"{0}\" that Grid supports (supported: name, platform, backend, version_policy, instance_group).";
    private const string UnknownGroupField = "Message type \"inference.ModelInstanceGroup\" has no field named \"{0}\" that Grid supports (supported: count, kind).";
    private const string BadKind = "instance_group.kind must be KIND_GPU, KIND_CPU or KIND_AUTO, got {0}";
    private const string OneGroup = "instance_group: Grid supports one instance group per model (its count and kind apply to every version)";

    [Fact]
    public void Parse_ListFormInstanceGroup_ReadsCountAndKind()
    {
        // Act
        var config = ModelConfigParser.Parse("instance_group [ { count: 2 kind: KIND_GPU } ]");

        // Assert
        Assert.Equal(new ModelConfig(null, null, 2, DeviceRequirement.Gpu), config);
    }

    [Fact]
    public void Parse_MessageFormInstanceGroup_ReadsCount()
    {
        // Act
        var config = ModelConfigParser.Parse("instance_group { count: 3 }");

        // Assert
        Assert.Equal(new ModelConfig(null, null, 3, null), config);
    }

    [Fact]
    public void Parse_AngleBracketInstanceGroupWithColon_ReadsCountAndKind()
    {
        // Act
        var config = ModelConfigParser.Parse("instance_group: < count: 1; kind: KIND_CPU >");

        // Assert
        Assert.Equal(new ModelConfig(null, null, 1, DeviceRequirement.Cpu), config);
    }

    [Theory]
    [InlineData("KIND_GPU", DeviceRequirement.Gpu)]
    [InlineData("KIND_CPU", DeviceRequirement.Cpu)]
    [InlineData("KIND_AUTO", DeviceRequirement.Any)]
    public void Parse_Kind_MapsToTheDeviceRequirement(string kind, DeviceRequirement expected)
    {
        // Act
        var config = ModelConfigParser.Parse($"instance_group [ {{ kind: {kind} }} ]");

        // Assert
        Assert.Equal(new ModelConfig(null, null, null, expected), config);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void Parse_CountAtTheLimits_IsAccepted(int count)
    {
        // Act
        var config = ModelConfigParser.Parse($"instance_group {{ count: {count} }}");

        // Assert
        Assert.Equal(count, config.Replicas);
    }

    [Fact]
    public void Parse_FullConfigWithComments_ReadsEveryField()
    {
        // Arrange
        const string text = """
            # ResNet, two replicas wherever a device is free
            name: "resnet"  # the directory's name
            platform: "onnxruntime_onnx"
            instance_group [
              {
                # count: 9 (commented out)
                count: 2
                kind: KIND_AUTO
              }
            ]
            """;

        // Act
        var config = ModelConfigParser.Parse(text);

        // Assert
        Assert.Equal(new ModelConfig("resnet", "onnxruntime_onnx", 2, DeviceRequirement.Any), config);
    }

    [Fact]
    public void Parse_OnnxRuntimeBackend_ImpliesTheOnnxPlatform()
    {
        // Act
        var config = ModelConfigParser.Parse("name: 'm'\nbackend: \"onnxruntime\"\n");

        // Assert
        Assert.Equal(new ModelConfig("m", "onnxruntime_onnx", null, null), config);
    }

    [Theory]
    [InlineData("platform: \"tensorflow_savedmodel\"")]
    [InlineData("backend: \"tensorflow\"")]
    public void Parse_TensorFlowPlatformOrBackend_IsTheSavedModelPlatform(string text)
    {
        // Act
        var config = ModelConfigParser.Parse(text);

        // Assert
        Assert.Equal("tensorflow_savedmodel", config.Platform);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t\n")]
    [InlineData("# nothing here\n# still nothing\n")]
    public void Parse_NothingGiven_ReturnsAllNull(string text)
    {
        // Act
        var config = ModelConfigParser.Parse(text);

        // Assert
        Assert.Equal(new ModelConfig(null, null, null, null), config);
    }

    [Theory]
    [InlineData("name: \"m\"\ndynamic_batching { }\n", "line 2: " + UnknownModelField, "dynamic_batching")]
    [InlineData("max_batch_size: 8", "line 1: " + UnknownModelField, "max_batch_size")]
    [InlineData("instance_group [\n  {\n    count: 1\n    gpus: [0]\n  }\n]\n", "line 4: " + UnknownGroupField, "gpus")]
    [InlineData("instance_group { count: 0 }", "line 1: instance_group.count must be between 1 and 64, got {0}", "0")]
    [InlineData("instance_group { count: 65 }", "line 1: instance_group.count must be between 1 and 64, got {0}", "65")]
    [InlineData("instance_group { count: -1 }", "line 1: instance_group.count must be between 1 and 64, got {0}", "-1")]
    [InlineData("instance_group { count: two }", "line 1: instance_group.count: expected an integer, found '{0}'", "two")]
    [InlineData("instance_group { kind: KIND_MODEL }", "line 1: " + BadKind, "KIND_MODEL")]
    [InlineData("instance_group { kind: KIND_TPU }", "line 1: " + BadKind, "KIND_TPU")]
    [InlineData("instance_group { kind: gpu }", "line 1: " + BadKind, "gpu")]
    [InlineData("instance_group { count: 1 count: 2 }", "line 1: Non-repeated field \"{0}\" in instance_group is specified multiple times.", "count")]
    [InlineData("instance_group { count: 1 }\ninstance_group { count: 2 }\n", "line 2: " + OneGroup, "")]
    [InlineData("instance_group [ { count: 1 }, { count: 2 } ]", "line 1: " + OneGroup, "")]
    [InlineData("platform: \"tensorrt_plan\"", "line 1: platform \"{0}\" is not supported; supported: onnxruntime_onnx, pytorch_libtorch, tensorflow_savedmodel", "tensorrt_plan")]
    [InlineData("backend: \"tensorrt\"", "line 1: backend \"{0}\" is not supported; supported: onnxruntime, pytorch, tensorflow", "tensorrt")]
    [InlineData("name: \"a\"\n\nname: \"b\"\n", "line 3: Non-repeated field \"{0}\" is specified multiple times.", "name")]
    public void Parse_BadConfig_ThrowsFormatExceptionWithTheLine(string text, string expectedFormat, string subject)
    {
        // Act
        var error = Assert.Throws<FormatException>(() => ModelConfigParser.Parse(text));

        // Assert
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expectedFormat, subject), error.Message);
    }

    [Theory]
    [InlineData("instance_group [\n  {\n    count: 0\n  }\n]\n", "line 3: instance_group.count must be between 1 and 64, got 0")]
    [InlineData("instance_group [\n  {\n    count: 65\n    kind: KIND_GPU\n  }\n]\n", "line 3: instance_group.count must be between 1 and 64, got 65")]
    [InlineData("instance_group {\n  kind: KIND_TPU\n}\n", "line 2: instance_group.kind must be KIND_GPU, KIND_CPU or KIND_AUTO, got KIND_TPU")]
    [InlineData("name: \"m\"\nplatform: \"tensorrt_plan\"\ninstance_group { count: 1 }\n", "line 2: platform \"tensorrt_plan\" is not supported; supported: onnxruntime_onnx, pytorch_libtorch, tensorflow_savedmodel")]
    [InlineData("backend: \"tensorrt\"\nname: \"m\"\n", "line 1: backend \"tensorrt\" is not supported; supported: onnxruntime, pytorch, tensorflow")]
    public void Parse_BadValueFollowedByMoreLines_ReportsTheLineOfTheValue(string text, string expected)
    {
        // Act
        var error = Assert.Throws<FormatException>(() => ModelConfigParser.Parse(text));

        // Assert
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Parse_VersionPolicyAll_SelectsEveryVersion()
    {
        var config = ModelConfigParser.Parse("version_policy: { all { } }");

        Assert.IsType<Grid.Serving.Policies.AllVersionSelectionPolicy>(config.VersionPolicy);
    }

    [Fact]
    public void Parse_VersionPolicyLatest_KeepsNumVersions()
    {
        var config = ModelConfigParser.Parse("version_policy { latest { num_versions: 2 } }\ninstance_group { count: 1 }");

        var latest = Assert.IsType<Grid.Serving.Policies.LatestVersionSelectionPolicy>(config.VersionPolicy);
        Assert.Equal(2, latest.NumVersions);
        Assert.Equal(1, config.Replicas);
    }

    [Fact]
    public void Parse_VersionPolicySpecific_ListAndRepeatedForms()
    {
        var list = ModelConfigParser.Parse("version_policy { specific { versions: [1, 3] } }");
        var repeated = ModelConfigParser.Parse("version_policy { specific { versions: 1 versions: 3 } }");

        Assert.IsType<Grid.Serving.Policies.SpecificVersionSelectionPolicy>(list.VersionPolicy);
        Assert.IsType<Grid.Serving.Policies.SpecificVersionSelectionPolicy>(repeated.VersionPolicy);
    }

    [Theory]
    [InlineData("version_policy { newest { } }", "line 1: version_policy must be latest, all or specific, got newest")]
    [InlineData("version_policy {\n  latest { num_versions: 0 }\n}", "line 2: version_policy.latest.num_versions must be at least 1, got 0")]
    [InlineData("version_policy { specific { } }", "line 1: version_policy.specific needs at least one entry in versions")]
    public void Parse_BadVersionPolicy_ThrowsWithTheLine(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ModelConfigParser.Parse(text));

        Assert.Equal(expected, error.Message);
    }
}
