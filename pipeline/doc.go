// Package pipeline turns MDVM export files into a partitioned Parquet lake.
//
// A run is a chain of stages, each in the file named after it:
//
//	source    finds the inputs: files, folders, stdin, or downloaded blobs
//	read      opens an input, detects gzip and cuts it into chunks of lines
//	decode    turns lines into records, setting bad ones aside as rejects
//	scan      reads a line or document in one pass; decode and flatten fall
//	          back to fastjson for what it leaves
//	flatten   turns a record's additionalFields text into typed values
//	build     gathers records into per-partition buffers under a memory budget
//	write     encodes a partition's buffered rows as a Parquet row group,
//	          with the page writer of package parquetfile
//	publish   moves a finished run into the lake a date at a time, each
//	          date all at once
//
// Each stage runs in its own goroutines, closes its own output channel and
// stops on the first error; Convert wires them together and returns a
// Summary that reconciles every input record with a row or a reject.
package pipeline
