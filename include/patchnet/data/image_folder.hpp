// Reader of an image-folder data set: <root>/<split>/<class>/*.{jpg,jpeg,png}, as Keras'
// image_dataset_from_directory and torchvision's ImageFolder lay it out (the CIFAR-10
// archive ../shared/data/cifar10-jpeg.tar.xz is train/<class>/NNNN.jpg, test/<class>/...).
//
// Class names are the sorted subfolder names and a label is the index of its folder;
// images are taken in name order within a class, so the set is the same on every machine
// (directory iteration order is not). Every image is decoded to RGB (decode.hpp) and
// resized bilinearly to height x width when its size differs. Hidden entries (names
// starting with '.') are skipped: macOS leaves "._x.jpg" files that are not images.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/data/decode.hpp"
#include "patchnet/data/files.hpp"
#include "patchnet/data/image_set.hpp"

namespace patchnet::data {

// True for names ending in .jpg, .jpeg or .png, in any case.
inline bool is_image_file_name(const std::string& name) {
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Full paths of the image files directly in `dir` (not recursive), sorted by file name
// (byte order). Empty when there are none; throws when `dir` is not a folder.
inline std::vector<std::string> list_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  PN_CHECK(fs::is_directory(dir, ec), "list_images: ", absolute_path(dir), ": ",
           fs::exists(dir, ec) ? "not a folder" : "folder not found");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !is_image_file_name(name)) continue;
    std::error_code ec2;
    if (it->is_regular_file(ec2)) names.push_back(name);
  }
  PN_CHECK(!ec, "list_images: ", absolute_path(dir), ": cannot list: ", ec.message());
  std::sort(names.begin(), names.end());
  std::vector<std::string> paths;
  paths.reserve(names.size());
  for (const std::string& n : names) paths.push_back((fs::path(dir) / n).string());
  return paths;
}

// The sorted names of the (non-hidden) subfolders of `dir`.
inline std::vector<std::string> list_subfolders(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ec2;
    if (!name.empty() && name[0] != '.' && it->is_directory(ec2)) names.push_back(name);
  }
  PN_CHECK(!ec, "list_subfolders: ", absolute_path(dir), ": cannot list: ", ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// All images of <root>/<split>, height x width x 3, labels by sorted class folder.
inline ImageSet read_image_folder(const std::string& root, const std::string& split, int64_t height, int64_t width) {
  namespace fs = std::filesystem;
  PN_CHECK(height > 0 && width > 0, "read_image_folder: image size ", height, "x", width, " must be positive");
  std::error_code ec;
  PN_CHECK(fs::is_directory(root, ec), "read_image_folder: ", absolute_path(root), ": ",
           fs::exists(root, ec) ? "not a folder" : "folder not found",
           " (expected <root>/<split>/<class>/*.jpg|png; see ../shared/data/README.md)");
  const fs::path dir = fs::path(root) / split;
  PN_CHECK(fs::is_directory(dir, ec), "read_image_folder: ", absolute_path(dir), ": split folder '", split,
           "' not found in ", absolute_path(root));
  ImageSet set;
  set.height = height;
  set.width = width;
  set.channels = 3;
  set.class_names = list_subfolders(dir.string());
  PN_CHECK(!set.class_names.empty(), "read_image_folder: ", absolute_path(dir),
           ": no class folders (expected one subfolder of images per class)");
  const int64_t bytes = height * width * 3;
  for (size_t label = 0; label < set.class_names.size(); ++label) {
    const fs::path class_dir = dir / set.class_names[label];
    const std::vector<std::string> files = list_images(class_dir.string());
    PN_CHECK(!files.empty(), "read_image_folder: ", absolute_path(class_dir),
             ": class folder holds no .jpg, .jpeg or .png images");
    set.pixels.reserve(set.pixels.size() + files.size() * static_cast<size_t>(bytes));
    for (const std::string& f : files) {
      const std::vector<uint8_t> img = load_image_rgb(f, height, width);
      set.pixels.insert(set.pixels.end(), img.begin(), img.end());
      set.labels.push_back(static_cast<int32_t>(label));
    }
  }
  set.n = static_cast<int64_t>(set.labels.size());
  return set;
}

// Labels are indices into the sorted class folders, so two splits with different class
// folders would give the same label to different classes. Throws naming the difference.
inline void check_same_classes(const ImageSet& train, const ImageSet& test, const std::string& root) {
  if (train.class_names == test.class_names) return;
  auto missing = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::string out;
    for (const std::string& n : a)
      if (std::find(b.begin(), b.end(), n) == b.end()) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? std::string("none") : out;
  };
  fail("read_image_folder: ", absolute_path(root), ": the test split's class folders differ from the train split's ",
       "(only in train: ", missing(train.class_names, test.class_names),
       "; only in test: ", missing(test.class_names, train.class_names), "); labels would not match");
}

}  // namespace patchnet::data
