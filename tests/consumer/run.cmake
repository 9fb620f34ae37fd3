# CTest driver: install the built patchnet into a scratch prefix, then configure, build
# and run tests/consumer twice: through find_package and through add_subdirectory (plus,
# for a CUDA build, a consumer of patchnet::cuda that must find its kernels linked).
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${PATCHNET_BUILD} --prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} -S ${PATCHNET_SOURCE}/tests/consumer -B ${WORK}/found -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK}/found)
run(${WORK}/found/consumer)
if(EXPECT_CUDA)  # the package has patchnet::cuda: its launchers must be registered
  run(${WORK}/found/consumer_cuda)
endif()
run(${CMAKE_COMMAND} -S ${PATCHNET_SOURCE}/tests/consumer -B ${WORK}/subdir -G ${GENERATOR}
    -DPATCHNET_SOURCE_DIR=${PATCHNET_SOURCE} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK}/subdir --target consumer)
run(${WORK}/subdir/consumer)
message(STATUS "find_package and add_subdirectory consumers built and ran")
