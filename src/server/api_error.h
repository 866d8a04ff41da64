// An error a client caused or must be told about, answered in OpenAI's shape
// {"error": {"message", "type", "param", "code"}} with its HTTP status.
#pragma once

#include <stdexcept>
#include <string>

namespace ug::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {},
           std::string type = "invalid_request_error", std::string code = {})
      : std::runtime_error(message),
        status(status),
        param(std::move(param)),
        type(std::move(type)),
        code(std::move(code)) {}

  int status;
  std::string param, type, code;
};

// 400 naming the offending field.
[[noreturn]] inline void bad_request(const std::string& message, const std::string& param = {}) {
  throw ApiError(400, message, param);
}

}  // namespace ug::server
