# ctest helper: PROGRAM (train_minimal) for one epoch on the CIFAR-10 mini set, with the
# data tests' rules (tests/support/data_dir.hpp): the set is $PATCHNET_DATA_DIR/cifar10-mini
# when that is set, else DATA; without it the test prints PATCHNET_SKIPPED (CTest reports
# skipped), or fails when CI=true.
if(NOT "$ENV{PATCHNET_DATA_DIR}" STREQUAL "")
  set(DATA "$ENV{PATCHNET_DATA_DIR}/cifar10-mini")
endif()
if(NOT EXISTS "${DATA}/cifar-10-batches-bin/test_batch.bin")
  if("$ENV{CI}" STREQUAL "true" OR "$ENV{CI}" STREQUAL "1")
    message(FATAL_ERROR "CI=true and the test data is missing: ${DATA}/cifar-10-batches-bin/test_batch.bin"
                        " (put ../shared/data beside the checkout or set PATCHNET_DATA_DIR)")
  endif()
  message("PATCHNET_SKIPPED: no test data at ${DATA}/cifar-10-batches-bin/test_batch.bin"
          " (see ../shared/data/README.md, or set PATCHNET_DATA_DIR)")
  return()
endif()
execute_process(COMMAND "${PROGRAM}" "${DATA}" 1 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${DATA} 1 failed (${rc})")
endif()
