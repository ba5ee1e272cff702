namespace ShmKit.Sample;

/// <summary>
/// One part of the sample: what the lead process does (it creates the objects, starts the peer and checks the
/// result) and what the peer process does. Each section is one file under Sections/ and one line in Program.cs.
/// </summary>
/// <param name="Name">The section's name, also the peer's first argument.</param>
/// <param name="Lead">The lead's half: returns a one-line summary, or throws when something is wrong.</param>
/// <param name="Peer">The peer's half, given the arguments the lead passed: returns the exit code.</param>
internal sealed record SampleSection(string Name, Func<PeerLauncher, string> Lead, Func<string[], int> Peer);
