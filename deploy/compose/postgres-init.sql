-- One database per domain on the "postgres" profile's server (first start of
-- an empty volume only): the two DSs are separate domains and never share
-- tables. Replicas of one domain would share its database.
CREATE DATABASE mimi_ds_a;
CREATE DATABASE mimi_ds_b;
