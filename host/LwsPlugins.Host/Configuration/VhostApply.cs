using System.Net;

namespace LwsPlugins.Host.Configuration;

/// <summary>How <see cref="LwsContext.ApplyAsync"/> treats the source's vhosts that exist already, and those it leaves out.</summary>
public enum VhostApplyMode
{
    /// <summary>Every vhost is new: one whose name exists is refused.</summary>
    Create,

    /// <summary>New vhosts are created, changed ones changed; the source's other vhosts stay.</summary>
    Upsert,

    /// <summary>As <see cref="Upsert"/>, and the source's vhosts the set leaves out are destroyed: the set is the source's whole desired state.</summary>
    Replace,
}

/// <summary>What applying a set of vhost definitions did to one vhost.</summary>
public enum VhostApplyAction
{
    /// <summary>Its definition did not change.</summary>
    Unchanged,

    /// <summary>It was created.</summary>
    Created,

    /// <summary>It was changed in place; its sessions were kept.</summary>
    Updated,

    /// <summary>Its endpoint changed: a new vhost replaced it (created first, then the old one destroyed).</summary>
    Recreated,

    /// <summary>It was destroyed (left out of a <see cref="VhostApplyMode.Replace"/> set).</summary>
    Destroyed,

    /// <summary>Its definition was refused (see <see cref="VhostApplyOutcome.Error"/>); what served before serves on.</summary>
    Refused,
}

/// <summary>One vhost's outcome of an apply.</summary>
/// <param name="Name">The vhost.</param>
/// <param name="Action">What was done.</param>
/// <param name="EndPoint">Where it listens now: an IP endpoint or a Unix socket (null when destroyed or refused without a previous vhost).</param>
/// <param name="Error">Why it was refused, naming the vhost and the key.</param>
public sealed record VhostApplyOutcome(string Name, VhostApplyAction Action, EndPoint? EndPoint, string? Error = null);

/// <summary>The outcome of <see cref="LwsContext.ApplyAsync"/>: every vhost of the set (and every one it destroyed).</summary>
/// <param name="Outcomes">One entry per vhost, in the set's order, destroyed ones first.</param>
public sealed record VhostApplyResult(IReadOnlyList<VhostApplyOutcome> Outcomes)
{
    /// <summary>The refusals' messages, each naming its vhost and key.</summary>
    public IReadOnlyList<string> Errors => [.. Outcomes.Where(o => o.Error is not null).Select(o => o.Error!)];

    /// <summary>How many vhosts had <paramref name="action"/>.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The count.</returns>
    public int Count(VhostApplyAction action) => Outcomes.Count(o => o.Action == action);
}

/// <summary>The sources of vhosts the server itself uses; any other name is a source of its own.</summary>
public static class VhostSources
{
    /// <summary><see cref="LwsContext.CreateVhostAsync"/> and <see cref="LwsContext.DestroyVhostAsync"/> called directly.</summary>
    public const string Api = "the engine's API";

    /// <summary>The admin API (<c>POST</c>/<c>PUT</c>/<c>DELETE /vhosts</c>).</summary>
    public const string Admin = "the admin API";

    /// <summary>The configuration files (main file and <c>conf.d</c>).</summary>
    public const string Configuration = "the configuration files";
}
