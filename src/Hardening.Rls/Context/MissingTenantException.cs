namespace Hardening.Rls;

/// <summary>Thrown when tenant-scoped database work is attempted without a tenant: the package fails closed.</summary>
public sealed class MissingTenantException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public MissingTenantException()
        : base("No tenant is set: tenant-scoped database work needs an ITenantContext with a TenantId (from the authenticated tenant claim or an explicit TenantContext).")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">What is missing and how to fix it.</param>
    public MissingTenantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and an inner exception.</summary>
    /// <param name="message">What is missing and how to fix it.</param>
    /// <param name="innerException">The cause.</param>
    public MissingTenantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
