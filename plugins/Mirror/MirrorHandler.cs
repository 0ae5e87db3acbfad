using System.Net.WebSockets;
using System.Text.Unicode;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.Mirror;

/// <summary>
/// One vhost's mirror: instances by name, each a fan-out group that exists while it has members.
/// Messages are forwarded whole, always as text, to every member including the sender. Each instance is a group on the
/// host's fan-out backplane, so an instance spans every server sharing it (Redis); with the in-process default it is
/// this server's alone.
/// </summary>
public sealed class MirrorHandler : ProtocolHandler, IProtocolStateTransfer
{
    private readonly MirrorOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SessionGroup> _instances = new(StringComparer.Ordinal);
    private readonly IFanOutBackplane? _backplane;

    /// <summary>Creates the vhost's mirror.</summary>
    /// <param name="options">The vhost's options.</param>
    /// <param name="context">The host's services; its <see cref="IFanOutBackplane"/>, when it offers one, carries instances between servers.</param>
    public MirrorHandler(IOptions<MirrorOptions> options, IProtocolContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options.Value;
        _backplane = context.Services.GetService(typeof(IFanOutBackplane)) as IFanOutBackplane;
    }

    /// <summary>The number of live instances.</summary>
    public int InstanceCount
    {
        get
        {
            lock (_gate)
            {
                return _instances.Count;
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        var name = session.GetQueryParameter("mirror") ?? "";
        if (name.Length > _options.MaxNameLength)
        {
            session.Close(WebSocketCloseStatus.PolicyViolation, $"mirror name longer than {_options.MaxNameLength} characters");
            return ValueTask.CompletedTask;
        }

        lock (_gate)
        {
            if (!_instances.TryGetValue(name, out var group))
            {
                if (_instances.Count >= _options.MaxInstances)
                {
                    session.Close(WebSocketCloseStatus.PolicyViolation, $"mirror instance limit ({_options.MaxInstances}) reached");
                    return ValueTask.CompletedTask;
                }

                group = CreateGroup(name);
                _instances.Add(name, group);
            }

            group.Add(session);
            session.State = new Member(name, group);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        if (session.State is not Member member)
        {
            return ValueTask.CompletedTask;
        }

        // lws forwards a binary message's bytes as text; text frames must hold UTF-8, so bytes that are not are refused.
        if (!message.IsText && !Utf8.IsValid(message.Data.Span))
        {
            session.Close(WebSocketCloseStatus.InvalidPayloadData, "binary message is not valid UTF-8");
            return ValueTask.CompletedTask;
        }

        member.Group.Broadcast(WebSocketMessageType.Text, message.Data.ToArray());
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
    {
        if (session.State is Member member)
        {
            lock (_gate)
            {
                if (member.Group.Remove(session) == 0 && _instances.TryGetValue(member.Name, out var group) && group == member.Group)
                {
                    _instances.Remove(member.Name);
                    group.Dispose();
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Hands the instances and their members to the next generation, so drawing goes on across a reload.</summary>
    /// <returns>Instance names mapped to their members, in joining order; <see langword="null"/> when the option is off.</returns>
    public object? ExportState()
    {
        if (!_options.KeepMembersOnReload)
        {
            return null;
        }

        lock (_gate)
        {
            // The instances move to the next generation's groups, which join the backplane themselves: leave it now, so no
            // message from another server reaches a moving member twice.
            var state = _instances.ToDictionary(i => i.Key, i => i.Value.GetMembers(), StringComparer.Ordinal);
            foreach (var group in _instances.Values)
            {
                group.Dispose();
            }

            return state;
        }
    }

    /// <inheritdoc />
    public void ImportState(object? state, IReadOnlyList<IWebSocketSession> sessions)
    {
        if (state is not IReadOnlyDictionary<string, IReadOnlyList<IWebSocketSession>> instances)
        {
            return;
        }

        var moving = sessions.ToHashSet();
        lock (_gate)
        {
            foreach (var (name, members) in instances)
            {
                var group = CreateGroup(name);
                foreach (var member in members.Where(moving.Contains))
                {
                    group.Add(member);
                    member.State = new Member(name, group);
                }

                if (group.Count > 0)
                {
                    _instances[name] = group;
                }
                else
                {
                    group.Dispose();
                }
            }
        }
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        lock (_gate)
        {
            foreach (var group in _instances.Values)
            {
                group.Dispose();
            }
        }

        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private SessionGroup CreateGroup(string name) => _backplane is null ? new SessionGroup() : new SessionGroup(_backplane, name);

    private sealed record Member(string Name, SessionGroup Group);
}
