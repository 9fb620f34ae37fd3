# ctest helper: unpack three CIFAR-10 test JPEGs from ARCHIVE into WORK and run
# PROGRAM ARGS --predict WORK. Prints "skipped: ..." when the archive is absent.
if(NOT EXISTS "${ARCHIVE}")
  message("skipped: no ${ARCHIVE}")
  return()
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/unpacked" "${WORK}/images")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xf "${ARCHIVE}" test/airplane/0000.jpg test/ship/0001.jpg
                        test/frog/0002.jpg
                WORKING_DIRECTORY "${WORK}/unpacked" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not unpack test images from ${ARCHIVE}")
endif()
file(COPY "${WORK}/unpacked/test/airplane/0000.jpg" "${WORK}/unpacked/test/ship/0001.jpg"
          "${WORK}/unpacked/test/frog/0002.jpg" DESTINATION "${WORK}/images")
execute_process(COMMAND "${PROGRAM}" ${ARGS} --predict "${WORK}/images" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --predict failed (${rc})")
endif()
