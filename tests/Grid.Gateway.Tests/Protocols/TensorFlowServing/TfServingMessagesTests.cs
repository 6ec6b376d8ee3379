using Google.Protobuf.WellKnownTypes;
using Grid.Gateway.Protocols.TensorFlowServing;
using Grid.Models;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing;

public class TfServingMessagesTests
{
    private static readonly ModelSignature HalfPlusTwo = new(
        ModelSignature.DefaultKey,
        ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x:0", TensorDType.Float, [-1, 1])],
        [new TensorSpec("y", "y:0", TensorDType.Float, [-1, 1])]);

    private static ModelStatus Status() => new("m",
    [
        new VersionStatus(1, ModelVersionState.End, ServingStatusCode.Ok, "", []),
        new VersionStatus(3, ModelVersionState.Available, ServingStatusCode.Ok, "", [HalfPlusTwo]),
        new VersionStatus(2, ModelVersionState.End, ServingStatusCode.InvalidArgument, "Failed to load", []),
    ]);

    [Fact]
    public void StatusResponse_AllVersions_OrdersVersionsDescending()
    {
        // Act
        var response = TfServingMessages.StatusResponse(Status(), null);

        // Assert
        Assert.Equal([3L, 2L, 1L], response.ModelVersionStatus.Select(v => v.Version));
        Assert.Equal(ModelVersionStatus.Types.State.Available, response.ModelVersionStatus[0].State);
        Assert.Equal(ModelVersionStatus.Types.State.End, response.ModelVersionStatus[1].State);
        Assert.Equal(Tensorflow.Error.Code.InvalidArgument, response.ModelVersionStatus[1].Status.ErrorCode);
        Assert.Equal("Failed to load", response.ModelVersionStatus[1].Status.ErrorMessage);
    }

    [Fact]
    public void StatusResponse_SpecificVersion_ReturnsOnlyThatVersion()
    {
        // Act
        var response = TfServingMessages.StatusResponse(Status(), 2);

        // Assert
        var version = Assert.Single(response.ModelVersionStatus);
        Assert.Equal(2L, version.Version);
    }

    [Theory]
    [InlineData(ModelVersionState.Start, ModelVersionStatus.Types.State.Start)]
    [InlineData(ModelVersionState.Loading, ModelVersionStatus.Types.State.Loading)]
    [InlineData(ModelVersionState.Available, ModelVersionStatus.Types.State.Available)]
    [InlineData(ModelVersionState.Unloading, ModelVersionStatus.Types.State.Unloading)]
    [InlineData(ModelVersionState.End, ModelVersionStatus.Types.State.End)]
    public void StatusResponse_EachState_MapsToTensorFlowServingState(ModelVersionState state, ModelVersionStatus.Types.State expected)
    {
        // Arrange
        var status = new ModelStatus("m", [new VersionStatus(1, state, ServingStatusCode.Ok, "", [])]);

        // Act
        var response = TfServingMessages.StatusResponse(status, null);

        // Assert
        Assert.Equal(expected, Assert.Single(response.ModelVersionStatus).State);
    }

    [Fact]
    public void EnsureStatusFound_UnknownModel_ThrowsNotFound()
    {
        // Arrange
        var status = new ModelStatus("m", []);

        // Act
        var error = Assert.Throws<ServingException>(() => TfServingMessages.EnsureStatusFound(status, "m", null));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Equal("Could not find any versions of model m", error.Message);
    }

    [Fact]
    public void EnsureStatusFound_UnknownVersion_ThrowsNotFound()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => TfServingMessages.EnsureStatusFound(Status(), "m", 7));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Equal("Could not find version 7 of model m", error.Message);
    }

    [Fact]
    public void EnsureStatusFound_KnownVersion_DoesNotThrow()
    {
        // Act
        var error = Record.Exception(() => TfServingMessages.EnsureStatusFound(Status(), "m", 2));

        // Assert
        Assert.Null(error);
    }

    [Fact]
    public void Json_StatusResponse_UsesTensorFlowServingFieldNamesAndEnumNames()
    {
        // Arrange
        var status = new ModelStatus("m", [new VersionStatus(3, ModelVersionState.Available, ServingStatusCode.Ok, "", [])]);
        var response = TfServingMessages.StatusResponse(status, null);

        // Act
        var json = TfServingMessages.Json.Format(response);

        // Assert
        Assert.Contains("\"model_version_status\"", json);
        Assert.Contains("\"version\": \"3\"", json);
        Assert.Contains("\"state\": \"AVAILABLE\"", json);
        Assert.Contains("\"error_code\": \"OK\"", json);
        Assert.Contains("\"error_message\": \"\"", json);
    }

    [Fact]
    public void SignatureDefMap_Signature_DescribesInputsAndOutputs()
    {
        // Act
        var map = TfServingMessages.SignatureDefMap([HalfPlusTwo]);

        // Assert
        var def = Assert.Single(map.SignatureDef).Value;
        Assert.Equal("serving_default", map.SignatureDef.Keys.Single());
        Assert.Equal("tensorflow/serving/predict", def.MethodName);
        var x = def.Inputs["x"];
        Assert.Equal("x:0", x.Name);
        Assert.Equal(DataType.DtFloat, x.Dtype);
        Assert.Equal([-1L, 1L], x.TensorShape.Dim.Select(d => d.Size));
        Assert.Equal("y:0", def.Outputs["y"].Name);
    }

    [Fact]
    public void SignatureDefReader_SignatureDefMap_RoundTripsSignature()
    {
        // Arrange
        var withUnknownRank = new ModelSignature(
            "other",
            ModelSignature.PredictMethodName,
            [new TensorSpec("text", "text", TensorDType.String, null)],
            [new TensorSpec("ids", "ids", TensorDType.Int64, [-1, 8]), new TensorSpec("mask", "mask", TensorDType.Bool, [])]);
        var map = TfServingMessages.SignatureDefMap([HalfPlusTwo, withUnknownRank]);

        // Act
        var signatures = map.SignatureDef.Select(kv => SignatureDefReader.ToSignature(kv.Key, kv.Value)).ToDictionary(s => s.Key);

        // Assert
        AssertSameSignature(HalfPlusTwo, signatures["serving_default"]);
        AssertSameSignature(withUnknownRank, signatures["other"]);
    }

    [Fact]
    public void MetadataResponse_AvailableVersion_PacksSignatureDefMap()
    {
        // Arrange
        var version = new VersionStatus(3, ModelVersionState.Available, ServingStatusCode.Ok, "", [HalfPlusTwo]);

        // Act
        var response = TfServingMessages.MetadataResponse("m", version);

        // Assert
        Assert.Equal("m", response.ModelSpec.Name);
        Assert.Equal(3L, response.ModelSpec.Version);
        var map = response.Metadata["signature_def"].Unpack<SignatureDefMap>();
        Assert.Equal(["serving_default"], map.SignatureDef.Keys);
    }

    private static void AssertSameSignature(ModelSignature expected, ModelSignature actual)
    {
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.MethodName, actual.MethodName);
        AssertSameSpecs(expected.Inputs, actual.Inputs);
        AssertSameSpecs(expected.Outputs, actual.Outputs);
    }

    private static void AssertSameSpecs(TensorSpec[] expected, TensorSpec[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        foreach (var e in expected)
        {
            var a = Assert.Single(actual, s => s.Alias == e.Alias);
            Assert.Equal(e.TensorName, a.TensorName);
            Assert.Equal(e.DType, a.DType);
            if (e.Shape is null)
            {
                Assert.Null(a.Shape);
            }
            else
            {
                Assert.NotNull(a.Shape);
                Assert.Equal(e.Shape, a.Shape);
            }
        }
    }
}
