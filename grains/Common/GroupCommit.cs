namespace Orleans.Trade.Common;

/// <summary>
/// Group commit for a reentrant grain: requests apply their changes in memory inside the grain's turn, then await
/// <see cref="CommitAsync"/>; changes made while a write is in flight are carried by the next write, so a hot grain writes once
/// per round trip, and every request is answered only after the write holding its change has committed. A failed write fails
/// every waiter, and the grain stays failed (memory is ahead of storage) until its activation is dropped and reloaded.
/// </summary>
/// <param name="writePending">Writes every change made so far; must take its snapshot before its first await.</param>
/// <param name="onFailure">Logs the failure, drops the activation, and says what callers are told.</param>
public sealed class GroupCommit(Func<Task> writePending, Func<Exception, TransientStorageException> onFailure)
{
    private bool _pending;
    private TaskCompletionSource? _nextBatch;
    private Task? _writer;
    private TransientStorageException? _failure;

    public bool IsFailed => _failure is not null;

    /// <summary>No write in flight and none waiting to start: every change committed through this is stored.</summary>
    public bool IsIdle => _writer is null || _writer.IsCompleted;

    public void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    /// <summary>Marks the grain failed for a reason found outside a write (e.g. a half-applied group of changes).</summary>
    public void Fail(TransientStorageException failure) => _failure ??= failure;

    /// <summary>
    /// With <paramref name="changed"/>: completes when this change is durable. Without: completes when the changes made before
    /// it are durable, so an answer never rests on a change that might still be lost.
    /// </summary>
    public async Task CommitAsync(bool changed)
    {
        ThrowIfFailed();
        Task wait;
        if (changed)
        {
            _pending = true;
            _nextBatch ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _nextBatch.Task;
            if (_writer is null || _writer.IsCompleted)
            {
                _writer = WriteLoop();
            }
        }
        else
        {
            wait = _nextBatch?.Task ?? _writer ?? Task.CompletedTask;
        }
        await wait;
        // A write after ours may have failed meanwhile; the caller retries against what is durable.
        ThrowIfFailed();
    }

    private async Task WriteLoop()
    {
        while (_pending && _nextBatch is { } batch)
        {
            _nextBatch = null;
            _pending = false;
            try
            {
                await writePending();
            }
            catch (Exception ex)
            {
                _failure = onFailure(ex);
                batch.TrySetException(_failure);
                _nextBatch?.TrySetException(_failure);
                _nextBatch = null;
                return;
            }
            batch.TrySetResult();
        }
    }
}
