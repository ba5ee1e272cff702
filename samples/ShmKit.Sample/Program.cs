using ShmKit.Sample;
using ShmKit.Sample.Sections;

// ShmKit.Sample: the ShmKit library in use across two processes. Run without arguments it runs every section: for
// each, this process (the lead) creates the objects, starts itself again as the peer, and checks what the peer did.
// Published with NativeAOT (README.md), it shows that the library works trimmed and compiled ahead of time.
SampleSection[] sections =
[
    SegmentAndSemaphores.Section,
    // Further sections, one file each under Sections/: a ShmMutex (issue 8) and a ShmQueue (issue 9).
];

if (args is ["peer", var name, .. var peerArgs])
{
    try
    {
        return sections.Single(s => s.Name == name).Peer(peerArgs);
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"ShmKit.Sample peer {name}: {e.GetType().Name}: {e.Message}");
        return 1;
    }
}

int failures = 0;
foreach (var section in sections.Where(s => args.Length == 0 || args.Contains(s.Name)))
{
    try
    {
        Console.WriteLine($"{section.Name}: ok, {section.Lead(new PeerLauncher(section.Name))}");
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"{section.Name}: FAILED: {e.GetType().Name}: {e.Message}");
        failures++;
    }
}

return failures == 0 ? 0 : 1;
