# The batch runner's parts below run_batch (planning, one job, executors,
# sinks, manifest): built into the engine, and into tests/core's batch_tests,
# which reach them directly (the engine hides non-API symbols).
set(FEATPIPE_BATCH_PARTS)
foreach(part inputs input_list_file scp_command ark_sink names stale_tmp plan job thread_executor process_executor memory_limit npy_folder_sink chunk_file_writer npy_chunk_writer atomic_file manifest_entry manifest resume_index
             progress_monitor provenance run_record library_threads npy_encode npy_float16_sink tar_format tar_sink)
  list(APPEND FEATPIPE_BATCH_PARTS ${CMAKE_CURRENT_LIST_DIR}/${part}.cpp)
endforeach()
