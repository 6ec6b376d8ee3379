namespace Grid.Testing;

/// <summary>Every await in a test goes through one of these, so a hang fails instead of stalling CI.</summary>
public static class TaskTimeoutExtensions
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Timeout);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Timeout);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan timeout) => task.WaitAsync(timeout);

    public static Task WithTimeout(this Task task, TimeSpan timeout) => task.WaitAsync(timeout);
}
