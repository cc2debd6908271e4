"""The seed's "Create and Download Report": Amazon's asynchronous reports as resumable, partitioned assets."""
