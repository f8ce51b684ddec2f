#include "client/failure.hpp"

#include "client/http_client.hpp"
#include "client/server_error.hpp"
#include "common/error.hpp"

namespace duckmesh::client {

int report_failure(Console& console) {
  console.out.flush();
  try {
    throw;
  } catch (const ServerError& e) {
    console.err << describe(e);
  } catch (const TransportError& e) {
    console.err << "error: " << e.what() << "\n";
  } catch (const ProtocolError& e) {
    console.err << "error: " << e.what() << "\n";
  } catch (const Error& e) {
    console.err << "error: " << e.what() << "\n";
    console.err.flush();
    return e.code() == ErrorCode::invalid_input ? kExitBadInput : kExitFailed;
  }
  console.err.flush();
  return kExitFailed;
}

}  // namespace duckmesh::client
