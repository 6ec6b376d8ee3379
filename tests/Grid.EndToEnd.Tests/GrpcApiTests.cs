using Google.Protobuf;
using Grid.Testing;
using Grpc.Core;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>TF Serving's gRPC API against a real grid process.</summary>
[Collection(SharedGridCollection.Name)]
public sealed class GrpcApiTests(SharedGridFixture fixture)
{
    private static TensorShapeProto Shape(params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        }
        return shape;
    }

    private static PredictRequest HalfPlusTwo(TensorProto x, params string[] filter)
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "half_plus_two" } };
        request.Inputs["x"] = x;
        request.OutputFilter.AddRange(filter);
        return request;
    }

    private Task<PredictResponse> PredictAsync(PredictRequest request)
        => fixture.Predictions.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.DefaultTimeout();

    private async Task AssertStillServingAsync()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 1), FloatVal = { 2f } };
        var response = await PredictAsync(HalfPlusTwo(x));
        Assert.Equal([3f], response.Outputs["y"].FloatVal);
    }

    [Fact]
    public async Task Predict_FloatVal_ReturnsResultAndEchoesModelSpec()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 1), FloatVal = { 2f } };

        var response = await PredictAsync(HalfPlusTwo(x, "y"));

        var y = response.Outputs["y"];
        Assert.Equal(DataType.DtFloat, y.Dtype);
        Assert.Equal([3f], y.FloatVal);
        Assert.Equal([1L, 1L], y.TensorShape.Dim.Select(d => d.Size));
        Assert.Equal("half_plus_two", response.ModelSpec.Name);
        Assert.Equal(123L, response.ModelSpec.Version);
        Assert.Equal("serving_default", response.ModelSpec.SignatureName);
    }

    [Fact]
    public async Task Predict_TensorContent_IsAccepted()
    {
        var bytes = new byte[12];
        Buffer.BlockCopy(new[] { 1f, 2f, 5f }, 0, bytes, 0, 12);
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(3, 1), TensorContent = ByteString.CopyFrom(bytes) };

        var response = await PredictAsync(HalfPlusTwo(x));

        Assert.Equal([2.5f, 3f, 4.5f], response.Outputs["y"].FloatVal);
    }

    [Fact]
    public async Task Predict_OutputFilter_ReturnsOnlyRequestedOutputs()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi_io" }, OutputFilter = { "diff" } };
        request.Inputs["a"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 2), FloatVal = { 5f, 1f } };
        request.Inputs["b"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 2), FloatVal = { 2f, 2f } };

        var response = await PredictAsync(request);

        Assert.Equal(["diff"], response.Outputs.Keys);
        Assert.Equal([3f, -1f], response.Outputs["diff"].FloatVal);
    }

    [Fact]
    public async Task Predict_UnknownOutputFilter_IsInvalidArgument()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 1), FloatVal = { 2f } };

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(HalfPlusTwo(x, "nope")));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("output tensor alias not found in signature: nope", error.Status.Detail);
    }

    [Fact]
    public async Task Predict_EveryNumericDtype_RoundTripsThroughTheModel()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "dtypes" } };
        request.Inputs["float_in"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 2), FloatVal = { 1.5f, -2f } };
        request.Inputs["double_in"] = new TensorProto { Dtype = DataType.DtDouble, TensorShape = Shape(1, 2), DoubleVal = { 1e300, -0.25 } };
        request.Inputs["int32_in"] = new TensorProto { Dtype = DataType.DtInt32, TensorShape = Shape(1, 2), IntVal = { int.MaxValue, -7 } };
        request.Inputs["int64_in"] = new TensorProto { Dtype = DataType.DtInt64, TensorShape = Shape(1, 2), Int64Val = { long.MinValue, 9 } };
        request.Inputs["uint8_in"] = new TensorProto { Dtype = DataType.DtUint8, TensorShape = Shape(1, 2), IntVal = { 255, 0 } };
        request.Inputs["int8_in"] = new TensorProto { Dtype = DataType.DtInt8, TensorShape = Shape(1, 2), IntVal = { -128, 127 } };
        request.Inputs["int16_in"] = new TensorProto { Dtype = DataType.DtInt16, TensorShape = Shape(1, 2), IntVal = { -32768, 12345 } };
        request.Inputs["bool_in"] = new TensorProto { Dtype = DataType.DtBool, TensorShape = Shape(1, 2), BoolVal = { true, false } };

        var response = await PredictAsync(request);

        Assert.Equal([1.5f, -2f], response.Outputs["float_out"].FloatVal);
        Assert.Equal([1e300, -0.25], response.Outputs["double_out"].DoubleVal);
        Assert.Equal([int.MaxValue, -7], response.Outputs["int32_out"].IntVal);
        Assert.Equal([long.MinValue, 9L], response.Outputs["int64_out"].Int64Val);
        Assert.Equal([255, 0], response.Outputs["uint8_out"].IntVal);
        Assert.Equal([-128, 127], response.Outputs["int8_out"].IntVal);
        Assert.Equal([-32768, 12345], response.Outputs["int16_out"].IntVal);
        Assert.Equal([true, false], response.Outputs["bool_out"].BoolVal);
        Assert.Equal(DataType.DtInt16, response.Outputs["int16_out"].Dtype);
    }

    [Fact]
    public async Task Predict_StringTensor_IsServed()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "strings" } };
        request.Inputs["text"] = new TensorProto
        {
            Dtype = DataType.DtString,
            TensorShape = Shape(2),
            StringVal = { ByteString.CopyFromUtf8("grid"), ByteString.CopyFromUtf8("Serving") },
        };

        var response = await PredictAsync(request);

        Assert.Equal(["GRID", "SERVING"], response.Outputs["upper"].StringVal.Select(s => s.ToStringUtf8()));
        Assert.Equal(DataType.DtString, response.Outputs["echo"].Dtype);
    }

    [Fact]
    public async Task Predict_UnknownModel_IsNotFoundMentioningServable()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "intentionally_missing_model" } };
        request.Inputs["x"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1), FloatVal = { 1f } };

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(request));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("Servable", error.Status.Detail);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_WrongDtype_IsInvalidArgument()
    {
        var x = new TensorProto { Dtype = DataType.DtDouble, TensorShape = Shape(1, 1), DoubleVal = { 2.0 } };

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(HalfPlusTwo(x)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Expects arg[0] to be float but double is provided", error.Status.Detail);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_WrongValueCount_IsInvalidArgument()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(3, 1), FloatVal = { 1f, 2f } };

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(HalfPlusTwo(x)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Predict_MissingModelSpec_IsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(new PredictRequest()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Missing ModelSpec", error.Status.Detail);
    }

    [Fact]
    public async Task Predict_VersionLabel_IsInvalidArgumentUntilLabelsExist()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(1, 1), FloatVal = { 2f } };
        var request = HalfPlusTwo(x);
        request.ModelSpec.VersionLabel = "stable";

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("version_label", error.Status.Detail);
    }

    [Fact]
    public async Task Predict_MessageOverLimit_IsResourceExhaustedAndKeepsServing()
    {
        var x = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(SharedGridFixture.MessageLimit / 4 + 16, 1) };
        x.TensorContent = ByteString.CopyFrom(new byte[(SharedGridFixture.MessageLimit / 4 + 16) * 4]);

        var error = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(HalfPlusTwo(x)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task GetModelMetadata_HalfPlusTwo_PacksSignatureDefMap()
    {
        var request = new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "half_plus_two" }, MetadataField = { "signature_def" } };

        var response = await fixture.Predictions.GetModelMetadataAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.DefaultTimeout();

        Assert.Equal(123L, response.ModelSpec.Version);
        var map = response.Metadata["signature_def"].Unpack<SignatureDefMap>();
        var def = map.SignatureDef["serving_default"];
        Assert.Equal(DataType.DtFloat, def.Inputs["x"].Dtype);
        Assert.Equal([-1L, 1L], def.Inputs["x"].TensorShape.Dim.Select(d => d.Size));
        Assert.Equal("tensorflow/serving/predict", def.MethodName);
    }

    [Fact]
    public async Task GetModelMetadata_UnsupportedField_IsInvalidArgument()
    {
        var request = new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "half_plus_two" }, MetadataField = { "graph" } };

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Predictions.GetModelMetadataAsync(request).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task GetModelStatus_ServedModel_ReportsAvailable()
    {
        var response = await fixture.Models.GetModelStatusAsync(
            new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "half_plus_two" } }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.DefaultTimeout();

        var status = Assert.Single(response.ModelVersionStatus);
        Assert.Equal(123L, status.Version);
        Assert.Equal(ModelVersionStatus.Types.State.Available, status.State);
        Assert.Equal(Tensorflow.Error.Code.Ok, status.Status.ErrorCode);
    }

    [Fact]
    public async Task GetModelStatus_UnknownModel_IsNotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Models.GetModelStatusAsync(
            new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "nope" } }).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("Could not find any versions of model nope", error.Status.Detail);
    }
}
