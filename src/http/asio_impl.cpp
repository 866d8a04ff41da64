// The compiled parts of Boost.Asio (with its OpenSSL layer) and Boost.Beast, built once for the
// whole program (BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION are set on
// ug_http and its users).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
