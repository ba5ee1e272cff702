// Tests use global IPC keys and start child processes: run them one at a time, as dotnet/runtime's
// MemoryMappedFiles tests do for their cross-process cases.
[assembly: CollectionBehavior(DisableTestParallelization = true, MaxParallelThreads = 1)]
