-- Reverts V2__job_queue.
DROP TABLE job_events;
DROP TABLE job_queue;
