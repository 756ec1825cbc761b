// Boost.JSON compiled into the fuzz build (instead of linking Debian's libboost_json), so that
// the parser carries the sanitizers and the coverage instrumentation too.
#include <boost/json/src.hpp>
