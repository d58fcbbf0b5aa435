namespace Hardening.Observability;

/// <summary>Why a résumé could not be ingested; a closed set so the <c>reason</c> label stays bounded.</summary>
public enum IngestionFailureReason
{
    /// <summary>Anything not listed (<c>other</c>).</summary>
    Other,

    /// <summary>The file type is not supported (<c>unsupported_format</c>).</summary>
    UnsupportedFormat,

    /// <summary>The file is damaged or not what its type claims (<c>corrupt</c>).</summary>
    Corrupt,

    /// <summary>The file exceeds the size limit (<c>too_large</c>).</summary>
    TooLarge,

    /// <summary>The file is password-protected (<c>encrypted</c>).</summary>
    Encrypted,

    /// <summary>OCR was needed and failed (<c>ocr_failed</c>).</summary>
    OcrFailed,

    /// <summary>Parsing took longer than allowed (<c>timeout</c>).</summary>
    Timeout,

    /// <summary>The result could not be stored (<c>storage_unavailable</c>).</summary>
    StorageUnavailable,
}
