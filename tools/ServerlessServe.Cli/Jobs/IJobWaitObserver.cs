namespace ServerlessServe.Cli.Jobs;

/// <summary>What a wait reports as it goes: each status seen, and each failed poll that will be retried.</summary>
internal interface IJobWaitObserver
{
    void Seen(JobDocument job);

    void Retrying(JobApiException failure, TimeSpan delay);
}
