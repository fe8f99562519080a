"""Tests of edgekv.durable_objects."""
