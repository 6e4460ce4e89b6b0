namespace ServerlessServe.Core.Artifacts;

/// <summary>Which check a model version failed, in the order the checks run.</summary>
public enum ModelVerificationFailure
{
    /// <summary>manifest.sig is malformed or no trusted key verifies it, or the manifest names another signer.</summary>
    Signature,

    /// <summary>manifest.json is malformed, or its name/version differ from where it is stored, or its schema differs from the model's graph.</summary>
    Manifest,

    /// <summary>A file is missing, or its size or SHA-256 differs from the manifest.</summary>
    Digest,

    /// <summary>policy.json breaks the schema or does not fit the model.</summary>
    Policy,

    /// <summary>The model references external data (weights outside model.onnx).</summary>
    ExternalData,

    /// <summary>model.onnx is not a model that can be served (not ONNX, unsupported types, or ONNX Runtime refuses it).</summary>
    Model,
}
